"""A cancel that lands right behind its delivery, before the handler's task took its first
step, still frees the delivery's slot: such a task runs none of its coroutine's code."""

from __future__ import annotations

import asyncio
from typing import Any

from worker_sdk import TaskContext
from worker_sdk.config import WorkerSettings
from worker_sdk.handlers import make_handler
from worker_sdk.runtime import WorkerRuntime
from worker_sdk.wire import TaskAssignment

from .conftest import wait_for


async def test_a_task_cancelled_before_its_first_step_gives_its_slot_back() -> None:
    ran: list[str] = []

    async def hold(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        ran.append(ctx.task_id)
        await asyncio.Event().wait()
        return {}

    settings = WorkerSettings(worker_id="w-early", capacity=1)
    runtime = WorkerRuntime(settings, {"hold": make_handler("hold", hold)})
    slots = runtime._slots
    await slots.acquire()  # as the poll loop takes a slot before it starts a delivery
    assignment = TaskAssignment("j1", "j1.1", "hold", {}, 1, 1, None)
    assert runtime._start_task(assignment)

    assert runtime.cancel_task("j1", "j1.1", 1)  # before the task's first step

    await wait_for(lambda: not slots.locked(), what="the slot given back")
    assert runtime.running_task_ids == []
    assert ran == []
