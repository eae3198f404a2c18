"""The shape of the code: a pure core that loads no I/O library, and small modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, child_env

MAX_LINES = 400

PROBE = """
import sys
import orchestrator.engine.machine, orchestrator.engine.inject, orchestrator.blueprint
print(",".join(sorted(m for m in ("aiohttp", "redis", "fakeredis") if m in sys.modules)))
"""


def test_the_core_imports_without_aiohttp_or_redis() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", PROBE],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
        timeout=30,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def modules() -> list[Path]:
    found = sorted(
        p for package in ("orchestrator", "worker_sdk") for p in (ROOT / package).rglob("*.py")
    )
    assert len(found) > 20, "the package tree was not found"
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_400_lines(path: Path) -> None:
    lines = len(path.read_text().splitlines())

    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (max {MAX_LINES})"
