"""The worker the end-to-end tests run as real processes.

Tasks leave marker files in ``$E2E_MARKS`` so tests can see what ran where without sleeping.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from worker_sdk import TaskContext, Worker

worker = Worker()
MARKS = Path(os.environ.get("E2E_MARKS", "."))


def _mark(name: str) -> None:
    MARKS.mkdir(parents=True, exist_ok=True)
    (MARKS / name).write_text(os.environ.get("WORKER_ID", ""))


@worker.task("echo")
async def echo(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    return {"echo": params, "worker": ctx.worker_id}


@worker.task("slow_once")
async def slow_once(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    """Hangs on its first attempt (the test kills or cancels it), answers on later ones."""
    _mark(f"started-{ctx.task_id}-{ctx.attempt}")
    if ctx.attempt == 1:
        try:
            await asyncio.sleep(float(params.get("hang_s", 60)))
        except asyncio.CancelledError:
            _mark(f"cancelled-{ctx.task_id}")
            raise
    return {"worker": ctx.worker_id, "attempt": ctx.attempt}


@worker.task("hold")
async def hold(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    """On the workers named in ``hold_on``, holds the task until the test leaves
    ``go-<task id>`` in the marks; elsewhere answers at once."""
    _mark(f"held-{ctx.task_id}-{ctx.worker_id}")
    if ctx.worker_id in params.get("hold_on", []):
        # The test process says go with a file: no asyncio.Event reaches across processes.
        while not (MARKS / f"go-{ctx.task_id}").exists():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    return {"worker": ctx.worker_id, "attempt": ctx.attempt}
