"""The worker of the console tests, a real process. Its ``gate`` task waits until the test
opens it (a file ``open-<key>`` in ``$CONSOLE_MARKS``) and fails while ``fail-<key>`` is
there, so a test decides when a job moves without sleeping."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from worker_sdk import TaskContext, TaskError, Worker

worker = Worker()
MARKS = Path(os.environ.get("CONSOLE_MARKS", "."))


@worker.task("gate")
async def gate(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    key = str(params["key"])
    # The signal is a file another process writes: no event to await across processes.
    while not (MARKS / f"open-{key}").exists():  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if (MARKS / f"fail-{key}").exists():
        raise TaskError("GATE_BROKEN", f"the gate of {key} is broken")
    return {"gate": key}
