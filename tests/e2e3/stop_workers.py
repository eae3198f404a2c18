"""The worker of the ended-fan-out tests (``tests.e2e3.stop_workers:worker``).

Each ``hold`` branch leaves marker files in ``$E2E_MARKS``: ``started-<task id>`` when its
handler starts, ``finished-<task id>`` if it ever runs to its end (no cancel came), and
``cancelled-<task id>`` when the SDK cancels it at the orchestrator's request. The test reads
them: what ran, what was cancelled, without sleeping.
"""

from __future__ import annotations

import asyncio
import functools
import os
from pathlib import Path
from typing import Any

from worker_sdk import TaskContext, TaskError, Worker
from worker_sdk.runtime import WorkerRuntime

worker = Worker()
MARKS = Path(os.environ.get("E2E_MARKS", "."))
HOLD_S = 30
"""Long past any wait of the tests: a branch that finishes was never cancelled."""


def _mark(name: str) -> None:
    MARKS.mkdir(parents=True, exist_ok=True)
    (MARKS / name).write_text(os.environ.get("WORKER_ID", ""))


def _mark_cancels() -> None:
    """Marks each cancel where the SDK acts on it, not in the handler: a cancel that comes
    right after its task stops the handler before its first line runs."""
    cancel_task = WorkerRuntime.cancel_task

    @functools.wraps(cancel_task)
    def marking(self: WorkerRuntime, job_id: str, task_id: str, *more: Any) -> bool:
        acted = cancel_task(self, job_id, task_id, *more)
        if acted:  # it ran here, and is cancelled now
            _mark(f"cancelled-{task_id}")
        return acted

    WorkerRuntime.cancel_task = marking  # type: ignore[method-assign]


_mark_cancels()


@worker.task("hold")
async def hold(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    _mark(f"started-{ctx.task_id}")
    if params["fail"]:
        raise TaskError("BRANCH_FAILED", f"branch {params['i']} fails", retryable=False)
    await asyncio.sleep(HOLD_S)
    _mark(f"finished-{ctx.task_id}")
    return {"i": params["i"]}
