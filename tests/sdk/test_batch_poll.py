"""A worker asks for as many tasks as it has free slots (``?max=``) and runs each one of the
batch as it would a single one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from worker_sdk import Worker
from worker_sdk.client import OrchestratorClient

from .conftest import StartWorker, wait_for
from .fake_orchestrator import FakeOrchestrator


def _blocking_worker(make_worker: Callable[..., Worker], **options: Any) -> tuple[Worker, Any]:
    """A worker whose ``block`` tasks run until ``state["go"]`` is set."""
    worker = make_worker(**options)
    state: dict[str, Any] = {"go": asyncio.Event(), "running": 0}

    @worker.task("block")
    async def block(params: dict[str, Any]) -> dict[str, Any]:
        state["running"] += 1
        await state["go"].wait()
        return {"done": params.get("n")}

    return worker, state


async def test_free_slots_are_filled_from_one_poll(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker, state = _blocking_worker(make_worker, capacity=3)
    ids = [fake.enqueue("block", {"n": n}) for n in range(3)]

    await start_worker(worker)
    await wait_for(lambda: state["running"] == 3, what="three tasks running")

    assert fake.poll_params == [{"timeout": "1", "max": "3"}]  # one poll, no slot left
    assert fake.handed_out == ids
    state["go"].set()
    await wait_for(lambda: len(fake.results) == 3, what="three results")
    assert {fake.results[i]["data"]["done"] for i in ids} == {0, 1, 2}


async def test_a_worker_asks_for_its_free_slots_only(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker, state = _blocking_worker(make_worker, capacity=2)
    await start_worker(worker)
    fake.enqueue("block")
    await wait_for(lambda: state["running"] == 1, what="one task running")
    await wait_for(lambda: fake.active_polls == 1, what="the next poll")

    # one slot free: the single form, as every orchestrator version speaks it
    assert fake.poll_params[-1] == {"timeout": "1"}
    state["go"].set()


async def test_an_unreadable_task_of_a_batch_is_declined_and_the_others_run(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker, state = _blocking_worker(make_worker, capacity=3)
    state["go"].set()
    first = fake.enqueue("block", {"n": 1})
    bad = fake.enqueue("block", params="not an object")  # type: ignore[arg-type]
    last = fake.enqueue("block", {"n": 3})

    await start_worker(worker)
    await wait_for(lambda: len(fake.results) == 2 and fake.declines, what="results, decline")

    assert fake.poll_params[0] == {"timeout": "1", "max": "3"}
    assert set(fake.results) == {first, last}
    assert [d["task_id"] for d in fake.declines] == [bad]


async def test_an_orchestrator_older_than_batches_still_feeds_the_worker(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    fake.batches = False  # it ignores ``max``: one task an answer
    worker, state = _blocking_worker(make_worker, capacity=2)
    state["go"].set()
    ids = [fake.enqueue("block", {"n": n}) for n in range(2)]

    await start_worker(worker)
    await wait_for(lambda: len(fake.results) == 2, what="two results")

    assert set(fake.results) == set(ids)
    assert fake.declines == []


async def test_a_polled_task_starts_before_the_next_poll_is_sent(
    fake: FakeOrchestrator,
    make_worker: Callable[..., Worker],
    start_worker: StartWorker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Building the next poll (an HTTP request) must not hold up the handler of a task just
    polled: a lone task would wait for it."""
    order: list[str] = []
    polls = OrchestratorClient.next_tasks

    async def next_tasks(self: OrchestratorClient, timeout_s: float, count: int) -> Any:
        order.append("poll")
        return await polls(self, timeout_s, count)

    monkeypatch.setattr(OrchestratorClient, "next_tasks", next_tasks)
    worker = make_worker(capacity=2)

    @worker.task("echo")
    async def echo(params: dict[str, Any]) -> dict[str, Any]:
        order.append("handler")
        return params

    fake.enqueue("echo", {"n": 1})
    await start_worker(worker)
    await wait_for(lambda: fake.results, what="the result")
    assert order[:3] == ["poll", "handler", "poll"]
