"""Fixtures for SDK tests: a fake orchestrator on a loopback port and workers pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from worker_sdk import Worker

from .fake_orchestrator import TOKEN, FakeOrchestrator


async def wait_for(cond: Callable[[], object], timeout_s: float = 2.0, what: str = "") -> None:
    """Wait until ``cond()`` is truthy, failing the test after ``timeout_s`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what or cond}")
        await asyncio.sleep(0.005)


def echo_worker(make_worker: Callable[..., Worker], **options: Any) -> Worker:
    """A worker from ``make_worker`` (with ``options``) that runs ``echo`` tasks: their params
    come back."""
    worker = make_worker(**options)

    @worker.task("echo")
    async def echo(params: dict[str, Any]) -> dict[str, Any]:
        return {"echo": params}

    return worker


@pytest.fixture
def fake() -> FakeOrchestrator:
    return FakeOrchestrator()


@pytest.fixture
async def orch_url(fake: FakeOrchestrator, aiohttp_server: Any) -> str:
    server = await aiohttp_server(fake.make_app())
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
def make_worker(orch_url: str) -> Callable[..., Worker]:
    def make(**kwargs: Any) -> Worker:
        options: dict[str, Any] = {
            "url": orch_url,
            "token": TOKEN,
            "worker_id": "w-1",
            "capacity": 2,
            "poll_timeout_s": 1.0,
            "shutdown_grace_s": 2.0,
        }
        return Worker(**(options | kwargs))

    return make


StartWorker = Callable[[Worker], Awaitable["asyncio.Task[None]"]]


@pytest.fixture
async def start_worker(fake: FakeOrchestrator) -> AsyncIterator[StartWorker]:
    """Run a worker in the background until it registers and polls; stop it at teardown."""
    started: list[tuple[Worker, asyncio.Task[None]]] = []

    async def start(worker: Worker) -> asyncio.Task[None]:
        polls = len(fake.poll_params)
        task = asyncio.create_task(worker.run())
        started.append((worker, task))
        await wait_for(lambda: task.done() or len(fake.poll_params) > polls, what="first poll")
        return task

    yield start

    for worker, task in started:
        if task.done():
            continue  # the test awaited it and checked the outcome
        worker.stop()
        try:
            async with asyncio.timeout(5):
                await task
        except TimeoutError:
            task.cancel()
            raise AssertionError("worker did not stop within 5s") from None
