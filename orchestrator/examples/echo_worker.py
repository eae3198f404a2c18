"""A minimal worker: ``echo`` returns its params, ``sleep`` waits and honours cancellation.

Run it against an orchestrator::

    ORCH_URL=http://127.0.0.1:8080 ORCH_WORKER_TOKEN=... python -m worker_sdk run \\
        orchestrator.examples.echo_worker:worker

The end-to-end tests use ``sleep`` to check that cancelling a job stops its running task.
"""

from __future__ import annotations

import asyncio
from typing import Any

from worker_sdk import TaskContext, TaskError, Worker

worker = Worker()

# Wake up this often to notice a cancel even if the asyncio task is not cancelled.
SLEEP_STEP_S = 0.1


@worker.task("echo")
async def echo(params: dict[str, Any]) -> dict[str, Any]:
    """Return the params unchanged."""
    return {"echo": params}


@worker.task("sleep")
async def sleep(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    """Sleep ``params["seconds"]`` seconds, stopping early if the task is cancelled."""
    seconds = params.get("seconds", 1)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise TaskError("VALIDATION_ERROR", "seconds must be a number >= 0")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (remaining := deadline - loop.time()) > 0:
        if ctx.is_cancelled:
            # The worker sends no result for a cancelled task; this return is never reported.
            return {"slept": seconds - remaining, "cancelled": True}
        await asyncio.sleep(min(SLEEP_STEP_S, remaining))
    return {"slept": seconds}
