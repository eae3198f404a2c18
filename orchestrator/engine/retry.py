"""Backoff between attempts."""

from __future__ import annotations

import random

from orchestrator.engine.model import JSON, RetryPolicy


def backoff_s(policy: RetryPolicy, attempt: int, rng: random.Random | None = None) -> float:
    """Delay before ``attempt + 1`` after attempt number ``attempt`` (1-based) failed."""
    base = policy.initial_interval_s * policy.backoff_coefficient ** max(0, attempt - 1)
    delay = min(base, policy.max_interval_s)
    if policy.jitter:
        spread = delay * policy.jitter
        delay += (rng or random).uniform(-spread, spread)
    return max(0.0, delay)


def can_retry(policy: RetryPolicy, attempt: int) -> bool:
    return attempt < policy.max_attempts


def retry_delay_s(
    policy: RetryPolicy, attempt: int, err: JSON | None, rng: random.Random | None = None
) -> float:
    """Delay before the next attempt: the worker's ``retry_after_s`` if it asked, else backoff.

    A worker's delay is capped at ``max_interval_s`` so that one handler cannot park a task
    beyond what its blueprint allows; it gets no jitter (the worker usually echoes an
    upstream's ``Retry-After``, which jitter would undercut).
    """
    after = (err or {}).get("retry_after_s")
    if isinstance(after, int | float) and not isinstance(after, bool) and after >= 0:
        return min(float(after), policy.max_interval_s)
    return backoff_s(policy, attempt, rng)
