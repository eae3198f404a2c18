"""The worker of the routing and limits tests. Each task appends a line to its worker's file
in ``$E2E_MARKS``, so a test reads what ran where (and when) from the workers themselves."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import orjson

from worker_sdk import TaskContext, Worker

worker = Worker()
MARKS = Path(os.environ.get("E2E_MARKS", "."))


def _log(entry: dict[str, Any]) -> None:
    MARKS.mkdir(parents=True, exist_ok=True)
    # one short O_APPEND write a line: lines of concurrent tasks never interleave
    with (MARKS / f"{os.environ.get('WORKER_ID', '')}.jsonl").open("ab") as f:
        f.write(orjson.dumps(entry) + b"\n")


@worker.task("where")
async def where(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    _log({"task": ctx.task_id, "kind": params.get("kind"), "worker": ctx.worker_id})
    return {"worker": ctx.worker_id}


@worker.task("held")
async def held(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    start = time.time()
    await asyncio.sleep(float(params.get("run_s", 0.05)))
    _log({"task": ctx.task_id, "start": start, "end": time.time(), "worker": ctx.worker_id})
    return {"worker": ctx.worker_id}
