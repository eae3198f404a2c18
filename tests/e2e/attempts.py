"""A blueprint and a worker for the late-result tests (``test_late_results.py``).

The ``gated`` task runs until the test creates ``go-<task_id>-<attempt>`` in ``$E2E_MARKS``:
that is how the test, in another process, decides when each attempt finishes.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from orchestrator import Actions, Blueprint, RetryPolicy
from worker_sdk import TaskContext, TaskError, Worker

gated = Blueprint("gated", api_version="v1", api_endpoint="gated")
# A lost lease queues the next attempt after this backoff: short, so the test does not wait.
QUICK_RETRY = RetryPolicy(max_attempts=3, initial_interval_s=0.05, jitter=0)


@gated.handler(start=True)
async def begin(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task(
        "gated", initial_data, transitions={"success": "done"}, retry_policy=QUICK_RETRY
    )


@gated.handler(end=True)
async def done(worker: str, attempt: int) -> dict[str, Any]:
    return {"worker": worker, "attempt": attempt}


worker = Worker()
MARKS = Path(os.environ.get("E2E_MARKS", "."))
GATE_POLL_S = 0.02


def _mark_started(ctx: TaskContext) -> None:
    MARKS.mkdir(parents=True, exist_ok=True)
    (MARKS / f"started-{ctx.task_id}-{ctx.attempt}").write_text(ctx.worker_id)


def _gate_open(ctx: TaskContext) -> bool:
    return (MARKS / f"go-{ctx.task_id}-{ctx.attempt}").exists()


@worker.task("gated")
async def run_gated(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    _mark_started(ctx)
    deadline = time.monotonic() + float(params.get("max_wait_s", 60))
    # A file is the only signal that crosses from the test's process; watch it to a deadline.
    while not _gate_open(ctx):
        if time.monotonic() > deadline:
            raise TaskError("GATE_NEVER_OPENED", f"go-{ctx.task_id}-{ctx.attempt} never came")
        await asyncio.sleep(GATE_POLL_S)
    return {"worker": ctx.worker_id, "attempt": ctx.attempt}
