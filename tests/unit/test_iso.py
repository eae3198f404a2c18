"""``views.iso`` writes a timestamp as ``datetime`` would, down to its rounding: it is built
without a datetime per call (it is on every job view), so it is checked against one."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from orchestrator.views import iso


def _by_datetime(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Fractions at the edges: a microsecond's half (rounded to even), a carry into the next
# second, a millisecond's last microsecond.
EDGES = [0.0, 0.0005, 0.0015, 0.5, 0.9995, 0.999499, 0.9999995, 0.9999999, 0.0000005, 0.0000015]


@pytest.mark.parametrize(
    "ts", [0, 1, 1796131318.161466, 1796131318, -1.5, -0.0000005, 253402300799.999]
)
def test_named_timestamps(ts: float) -> None:
    assert iso(ts) == _by_datetime(ts)


def test_iso_writes_what_datetime_writes() -> None:
    rng = random.Random(9)
    stamps = [rng.uniform(0, 4e9) for _ in range(20_000)]
    stamps += [rng.randrange(0, 4 * 10**15) / 1e6 for _ in range(20_000)]
    stamps += [rng.randrange(0, 4 * 10**9) + edge for _ in range(2_000) for edge in EDGES]
    wrong = [(ts, iso(ts), _by_datetime(ts)) for ts in stamps if iso(ts) != _by_datetime(ts)]
    assert wrong[:5] == []
