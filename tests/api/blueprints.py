"""Small blueprints for the HTTP API tests, each on its own task type so queues never mix.

- ``orchestrator.examples.greeting`` (task type ``greet``): the example, with a ``failure``
  transition.
- ``flaky`` (task type ``flaky``): two attempts with a 50 ms backoff and no jitter, and only a
  ``success`` transition, so a failure ends the job with the worker's code or with
  ``RETRIES_EXHAUSTED``.
- ``review`` (task type ``review``): maps a custom status, ``needs_review``, to its own state.
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint, RetryPolicy
from orchestrator.examples.greeting import blueprint as greeting

FAST_RETRY = RetryPolicy(max_attempts=2, initial_interval_s=0.05, jitter=0)

flaky = Blueprint("flaky", api_version="v1", api_endpoint="flaky")


@flaky.handler(start=True)
async def begin(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task(
        "flaky",
        {"n": initial_data.get("n", 0)},
        transitions={"success": "done"},
        retry_policy=FAST_RETRY,
    )


@flaky.handler(end=True)
async def done(value: int) -> dict[str, Any]:
    return {"value": value}


review = Blueprint("review", api_version="v1", api_endpoint="review")


@review.handler(start=True)
async def check(actions: Actions) -> None:
    actions.dispatch_task(
        "review",
        {},
        transitions={"success": "approved", "needs_review": "manual"},
        retries=0,
    )


@review.handler(end=True)
async def approved() -> dict[str, Any]:
    return {"outcome": "approved"}


@review.handler(end=True)
async def manual(reason: str) -> dict[str, Any]:
    return {"outcome": "manual", "reason": reason}


ALL = [greeting, flaky, review]
