"""Stopping: drain in-flight work, hand it back after the grace period, and fatal token
errors."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from typing import Any

import pytest

from worker_sdk import Worker
from worker_sdk.errors import AuthError

from .conftest import StartWorker, wait_for
from .fake_orchestrator import FakeOrchestrator


async def test_stop_waits_for_running_task_and_its_result(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker()
    started, release = asyncio.Event(), asyncio.Event()

    @worker.task("slow")
    async def slow(params: dict[str, Any]) -> dict[str, Any]:
        started.set()
        await release.wait()
        return {"done": True}

    run = await start_worker(worker)
    task_id = fake.enqueue("slow")
    await asyncio.wait_for(started.wait(), 2)

    worker.stop()
    await wait_for(lambda: fake.active_polls == 0, what="long-poll cancelled")
    assert not run.done()
    release.set()
    await asyncio.wait_for(run, 2)
    assert fake.results[task_id]["data"] == {"done": True}
    assert not worker.is_running


async def test_tasks_cut_after_grace_period_are_handed_back_and_the_worker_deregisters(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker(shutdown_grace_s=0.1)
    started = asyncio.Event()

    @worker.task("stuck")
    async def stuck(params: dict[str, Any]) -> None:
        started.set()
        await asyncio.Event().wait()

    run = await start_worker(worker)
    task_id = fake.enqueue("stuck")
    await asyncio.wait_for(started.wait(), 2)
    await worker.shutdown()
    await asyncio.wait_for(run, 2)
    # Declined, not failed: the orchestrator queues it again at once, same attempt.
    assert task_id not in fake.results
    assert [(d["task_id"], d["attempt"]) for d in fake.declines] == [(task_id, 1)]
    assert fake.announced_draining == fake.deregistrations == ["w-1"]


async def test_async_context_manager_runs_and_drains(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], orch_url: str
) -> None:
    worker = make_worker()
    worker.task("echo")(lambda params: {"echo": params})
    async with worker:
        assert worker.is_running
        task_id = fake.enqueue("echo", {"a": 1})
        await wait_for(lambda: task_id in fake.results)
    assert not worker.is_running


async def test_bad_token_stops_the_worker_with_auth_error(
    make_worker: Callable[..., Worker],
) -> None:
    worker = make_worker(token="wrong")
    worker.task("echo")(lambda params: params)
    with pytest.raises(AuthError) as info:
        await asyncio.wait_for(worker.run(), 2)
    assert info.value.http_status == 401
    assert info.value.code == "UNAUTHORIZED"
    assert not worker.is_running


async def test_sigterm_drains_and_a_second_sigterm_cuts(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker(handle_signals=True, shutdown_grace_s=5.0)
    started = asyncio.Event()

    @worker.task("stuck")
    async def stuck(params: dict[str, Any]) -> None:
        started.set()
        await asyncio.Event().wait()

    run = await start_worker(worker)
    task_id = fake.enqueue("stuck")
    await asyncio.wait_for(started.wait(), 2)

    os.kill(os.getpid(), signal.SIGTERM)
    await wait_for(lambda: fake.active_polls == 0, what="polling stopped")
    assert not run.done()  # draining: the task still has its grace period
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(run, 2)
    assert [d["task_id"] for d in fake.declines] == [task_id]
