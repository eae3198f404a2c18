"""Cancellation over the WebSocket and the heartbeat answer; reconnecting the socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from worker_sdk import TaskContext, Worker

from .conftest import StartWorker, wait_for
from .fake_orchestrator import FakeOrchestrator


class SleepProbe:
    """A handler that blocks until cancelled and records what it saw."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled_error = False
        self.ctx_flag_at_cancel: bool | None = None

    async def __call__(self, params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled_error = True
            self.ctx_flag_at_cancel = ctx.is_cancelled
            raise
        return {}


async def test_cancel_over_websocket_stops_handler_without_result(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker()
    probe = SleepProbe()
    worker.task("sleep")(probe)
    run = await start_worker(worker)
    await wait_for(lambda: fake.sockets, what="command channel")
    task_id = fake.enqueue("sleep")
    await asyncio.wait_for(probe.started.wait(), 2)

    await fake.send_cancel(task_id)
    await wait_for(lambda: probe.cancelled_error, what="handler cancelled")
    await wait_for(lambda: not worker.running_task_ids, what="task gone")
    worker.stop()
    await run
    assert probe.ctx_flag_at_cancel is True
    assert fake.result_posts == []


async def test_websocket_reconnects_after_drop(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker()
    probe = SleepProbe()
    worker.task("sleep")(probe)
    await start_worker(worker)
    await wait_for(lambda: fake.ws_connects == 1 and fake.sockets, what="first connect")

    await fake.drop_sockets()
    await wait_for(lambda: fake.ws_connects == 2 and fake.sockets, what="reconnect")

    # The new socket delivers commands too.
    task_id = fake.enqueue("sleep")
    await asyncio.wait_for(probe.started.wait(), 2)
    await fake.send_cancel(task_id)
    await wait_for(lambda: probe.cancelled_error, what="cancel over the new socket")


async def test_heartbeat_reports_running_tasks_and_applies_cancels(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker()
    probe = SleepProbe()
    worker.task("sleep")(probe)
    run = await start_worker(worker)
    task_id = fake.enqueue("sleep")
    await asyncio.wait_for(probe.started.wait(), 2)
    await wait_for(
        lambda: {"load": 1, "running_tasks": [task_id]} in fake.heartbeats,
        what="heartbeat naming the running task",
    )

    fake.cancels_for_heartbeat = [{"job_id": "job-1", "task_id": task_id}]
    await wait_for(lambda: probe.cancelled_error, what="handler cancelled by heartbeat answer")
    await wait_for(lambda: {"load": 0, "running_tasks": []} in fake.heartbeats)
    worker.stop()
    await run
    assert fake.result_posts == []


async def test_worker_registers_again_when_forgotten(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker()
    worker.task("echo")(lambda params: params)
    await start_worker(worker)
    assert len(fake.registrations) == 1
    fake.forget_worker = True
    await wait_for(lambda: len(fake.registrations) == 2, what="second registration")
    task_id = fake.enqueue("echo", {"still": "working"})
    await wait_for(lambda: task_id in fake.results)
