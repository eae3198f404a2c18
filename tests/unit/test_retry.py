"""engine/retry.py: backoff growth, its cap, jitter bounds and the attempt budget."""

from __future__ import annotations

import random

import pytest

from orchestrator.engine.model import RetryPolicy
from orchestrator.engine.retry import backoff_s, can_retry


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (6, 32.0), (7, 60.0), (30, 60.0)],
)
def test_backoff_doubles_up_to_the_cap(attempt: int, expected: float) -> None:
    policy = RetryPolicy(
        initial_interval_s=1.0, backoff_coefficient=2.0, max_interval_s=60.0, jitter=0.0
    )

    assert backoff_s(policy, attempt) == expected


@pytest.mark.parametrize(
    ("policy", "attempt", "expected"),
    [
        (RetryPolicy(initial_interval_s=0.5, backoff_coefficient=3.0, jitter=0.0), 3, 4.5),
        (RetryPolicy(initial_interval_s=5.0, backoff_coefficient=1.0, jitter=0.0), 9, 5.0),
        (RetryPolicy(initial_interval_s=2.0, max_interval_s=3.0, jitter=0.0), 2, 3.0),
        (RetryPolicy(initial_interval_s=0.0, jitter=0.0), 5, 0.0),
        (RetryPolicy(initial_interval_s=1.0, jitter=0.0), 0, 1.0),
    ],
    ids=["coefficient-3", "constant", "capped", "zero", "attempt-0"],
)
def test_backoff_follows_the_policy(policy: RetryPolicy, attempt: int, expected: float) -> None:
    assert backoff_s(policy, attempt) == pytest.approx(expected)


@pytest.mark.parametrize(("attempt", "base"), [(1, 10.0), (3, 40.0), (9, 100.0)])
def test_jitter_stays_within_its_fraction_of_the_delay(attempt: int, base: float) -> None:
    policy = RetryPolicy(initial_interval_s=10.0, max_interval_s=100.0, jitter=0.2)
    rng = random.Random(7)

    delays = [backoff_s(policy, attempt, rng) for _ in range(500)]

    assert min(delays) >= base * 0.8
    assert max(delays) <= base * 1.2
    assert min(delays) < base * 0.9  # the spread is used, on both sides
    assert max(delays) > base * 1.1


def test_jitter_is_reproducible_with_a_seeded_rng() -> None:
    policy = RetryPolicy(jitter=0.5)

    first = [backoff_s(policy, 2, random.Random(3)) for _ in range(2)]

    assert first[0] == first[1]
    assert first[0] != backoff_s(policy, 2, random.Random(4))


def test_jitter_never_makes_a_delay_negative() -> None:
    policy = RetryPolicy(initial_interval_s=1.0, jitter=3.0)
    rng = random.Random(1)

    assert min(backoff_s(policy, 1, rng) for _ in range(200)) == 0.0


@pytest.mark.parametrize(
    ("max_attempts", "attempt", "expected"),
    [(1, 1, False), (2, 1, True), (2, 2, False), (4, 3, True), (4, 4, False), (4, 5, False)],
)
def test_can_retry_counts_the_first_attempt(
    max_attempts: int, attempt: int, expected: bool
) -> None:
    assert can_retry(RetryPolicy(max_attempts=max_attempts), attempt) is expected
