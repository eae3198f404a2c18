"""A cancel names its attempt: it stops that attempt only, and is not lost when it comes
before its delivery.

The cases behind these tests: attempt 1 of a task timed out and its cancel arrived late (in a
heartbeat answer, the WebSocket being down) while attempt 2 of the same task ran on the same
worker, and stopped attempt 2 too; and a cancel that reached the worker just before the task
it named was dropped ("not running here"), so the task then ran to its end for nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from worker_sdk import TaskContext, Worker

from .conftest import StartWorker, wait_for
from .fake_orchestrator import FakeOrchestrator


class Attempts:
    """A handler that blocks until cancelled and keeps each attempt's context."""

    def __init__(self) -> None:
        self.contexts: dict[int, TaskContext] = {}

    async def __call__(self, params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        self.contexts[ctx.attempt] = ctx
        await asyncio.Event().wait()
        return {}


async def _heartbeat_answered(fake: FakeOrchestrator, cancel: dict[str, Any]) -> None:
    """Hand ``cancel`` to the next heartbeat and return once the worker has acted on it: the
    heartbeat loop handles an answer before it sends the next heartbeat."""
    fake.cancels_for_heartbeat = [cancel]
    await wait_for(lambda: not fake.cancels_for_heartbeat, what="the cancel to be collected")
    collected = len(fake.heartbeats)
    await wait_for(lambda: len(fake.heartbeats) > collected, what="the heartbeat after it")


async def test_a_cancel_stops_only_the_attempt_it_names(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker(capacity=2)
    handler = Attempts()
    worker.task("hold")(handler)
    await start_worker(worker)
    await wait_for(lambda: fake.sockets, what="command channel")
    # Attempt 1 lost its lease while it ran; attempt 2 came back to this same worker.
    task_id = fake.enqueue("hold", attempt=1)
    await wait_for(lambda: 1 in handler.contexts, what="attempt 1 to start")
    fake.enqueue("hold", job_id="job-1", task_id=task_id, attempt=2)
    await wait_for(lambda: 2 in handler.contexts, what="attempt 2 to start")

    await fake.send_cancel(task_id, attempt=1)  # attempt 1 timed out
    await wait_for(lambda: handler.contexts[1].is_cancelled, what="attempt 1 cancelled")
    assert not handler.contexts[2].is_cancelled, "the cancel of attempt 1 stopped attempt 2"

    # The same cancel again, late, through a heartbeat: attempt 2 still goes on.
    await _heartbeat_answered(fake, {"job_id": "job-1", "task_id": task_id, "attempt": 1})
    assert not handler.contexts[2].is_cancelled, "a late cancel of attempt 1 stopped attempt 2"
    assert worker.running_task_ids == [task_id]

    await _heartbeat_answered(fake, {"job_id": "job-1", "task_id": task_id, "attempt": 2})
    assert handler.contexts[2].is_cancelled
    await wait_for(lambda: not worker.running_task_ids, what="both attempts to end")
    assert fake.result_posts == [] and fake.declines == []


async def test_a_cancel_without_an_attempt_stops_every_attempt(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    """An orchestrator that names no attempt (as before) still stops the task."""
    worker = make_worker(capacity=2)
    handler = Attempts()
    worker.task("hold")(handler)
    await start_worker(worker)
    await wait_for(lambda: fake.sockets, what="command channel")
    task_id = fake.enqueue("hold", attempt=1)
    fake.enqueue("hold", job_id="job-1", task_id=task_id, attempt=2)
    await wait_for(lambda: len(handler.contexts) == 2, what="both attempts to start")

    await fake.send_cancel(task_id)

    await wait_for(lambda: not worker.running_task_ids, what="both attempts to stop")
    assert all(ctx.is_cancelled for ctx in handler.contexts.values())
    assert fake.result_posts == []


async def test_a_cancel_that_comes_before_its_delivery_is_declined_not_run(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker()
    handler = Attempts()
    worker.task("hold")(handler)
    await start_worker(worker)

    # The cancel overtakes the delivery it names (the job was cancelled, or the attempt timed
    # out, while the long-poll's answer was on its way).
    await _heartbeat_answered(fake, {"job_id": "job-7", "task_id": "task-7", "attempt": 1})
    fake.enqueue("hold", job_id="job-7", task_id="task-7", attempt=1)

    await wait_for(lambda: fake.declines, what="the delivery to be declined")
    assert [(d["task_id"], d["attempt"]) for d in fake.declines] == [("task-7", 1)]
    assert "cancelled" in fake.declines[0]["reason"]
    assert handler.contexts == {}, "the cancelled attempt ran"
    assert worker.running_task_ids == [] and fake.result_posts == []

    # Another attempt of that task is not the one cancelled: it runs.
    fake.enqueue("hold", job_id="job-7", task_id="task-7", attempt=2)
    await wait_for(lambda: 2 in handler.contexts, what="attempt 2 to run")
    assert len(fake.declines) == 1
    # and its own cancel stops it (so the worker stops without waiting out its grace period)
    await _heartbeat_answered(fake, {"job_id": "job-7", "task_id": "task-7", "attempt": 2})
    await wait_for(lambda: not worker.running_task_ids, what="attempt 2 to stop")
