"""Drained by the orchestrator: over the WebSocket, in a heartbeat answer, or by a refused
long-poll. Each way the worker stops polling, lets its running task finish, deregisters and
``run()`` returns."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from worker_sdk import Worker
from worker_sdk.cli import main

from .conftest import StartWorker, wait_for
from .fake_orchestrator import FakeOrchestrator


async def _by_websocket(fake: FakeOrchestrator) -> None:
    await wait_for(lambda: fake.sockets, what="the command channel")
    await fake.send_drain()


async def _by_heartbeat(fake: FakeOrchestrator) -> None:
    await fake.drop_sockets()  # and the worker reconnects; only the heartbeat tells
    fake.draining = True


Trigger = Callable[[FakeOrchestrator], Awaitable[None]]


@pytest.mark.parametrize("trigger", [_by_websocket, _by_heartbeat], ids=["websocket", "heartbeat"])
async def test_a_drained_worker_finishes_its_task_then_deregisters(
    fake: FakeOrchestrator,
    make_worker: Callable[..., Worker],
    start_worker: StartWorker,
    trigger: Trigger,
) -> None:
    worker = make_worker(capacity=2)
    started, release = asyncio.Event(), asyncio.Event()

    @worker.task("slow")
    async def slow(params: dict[str, Any]) -> dict[str, Any]:
        started.set()
        await release.wait()
        return {"done": True}

    run = await start_worker(worker)
    task_id = fake.enqueue("slow")
    await asyncio.wait_for(started.wait(), 2)
    await wait_for(lambda: fake.active_polls == 1, what="the poll for the free slot")

    await trigger(fake)
    await wait_for(lambda: fake.active_polls == 0, what="polling stopped")
    late = fake.enqueue("slow")  # queued after the drain: nobody here takes it
    assert not run.done()  # the running task still has its grace period
    release.set()
    await asyncio.wait_for(run, 2)
    assert fake.results[task_id]["data"] == {"done": True}
    assert late not in fake.handed_out
    assert fake.deregistrations == ["w-1"]
    assert not fake.declines
    assert not fake.announced_draining  # the orchestrator knows already


async def test_a_refused_long_poll_drains_an_idle_worker(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker()
    worker.task("echo")(lambda params: params)
    await fake.drop_sockets()
    fake.draining = True
    run = await start_worker(worker)
    await asyncio.wait_for(run, 2)
    assert fake.deregistrations == ["w-1"]


async def test_a_task_on_its_way_when_the_stop_comes_still_runs(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    """Dropping the long-poll at once would lose the task its answer hands over (leased to
    this worker, never run, until the lease runs out)."""
    worker = make_worker(capacity=1)
    worker.task("echo")(lambda params: params)
    run = await start_worker(worker)  # its long-poll is parked

    worker.stop()
    task_id = fake.enqueue("echo", {"a": 1})  # and the parked poll answers with it now

    await asyncio.wait_for(run, 3)
    assert fake.handed_out == [task_id]
    assert fake.results[task_id]["data"] == {"a": 1}
    assert fake.announced_draining == fake.deregistrations == ["w-1"]


def test_help_explains_draining(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "POST /api/v1/workers/<id>/drain" in out
    assert "WORKER_SHUTDOWN_GRACE_S seconds to finish" in out
    assert "handed back" in out and "deregisters and exits 0" in out
