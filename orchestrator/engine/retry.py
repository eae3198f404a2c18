"""Backoff between attempts."""

from __future__ import annotations

import random

from orchestrator.engine.model import RetryPolicy


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
