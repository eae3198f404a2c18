"""Results on the WebSocket: sent there when the orchestrator's ``hello`` offers it, and over
HTTP whenever no answer comes there. Nothing counts as delivered without an ack or a 2xx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from worker_sdk import Worker, WorkerSettings
from worker_sdk.client import OrchestratorClient
from worker_sdk.commands import CommandChannel
from worker_sdk.errors import AuthError

from .conftest import StartWorker, echo_worker, wait_for
from .fake_orchestrator import TOKEN, FakeOrchestrator


@pytest.fixture(autouse=True)
def _offer_results(fake: FakeOrchestrator) -> None:
    """The fake takes results on its socket, as the orchestrator does (autouse fixtures come
    first: the ``channel`` fixture connects to a socket that says so)."""
    fake.ws_results = True


async def _run(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> Worker:
    """A worker whose socket is open (and so has had the ``hello``, sent before it is listed)."""
    worker = echo_worker(make_worker)
    await start_worker(worker)
    await wait_for(lambda: fake.sockets, what="the WebSocket")
    return worker


async def test_results_go_on_the_websocket_when_the_orchestrator_takes_them(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    await _run(fake, make_worker, start_worker)
    tasks = [fake.enqueue("echo", {"n": n}) for n in range(3)]
    await wait_for(lambda: len(fake.results) == 3, what="three results")
    assert fake.result_posts == []
    assert sorted(m["id"] for m in fake.ws_result_messages) == [1, 2, 3]
    assert {m["body"]["task_id"] for m in fake.ws_result_messages} == set(tasks)
    assert fake.results[tasks[0]]["data"] == {"echo": {"n": 0}}


async def test_an_orchestrator_without_hello_gets_results_over_http(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    fake.ws_results = False  # a command channel only, as before
    await _run(fake, make_worker, start_worker)
    task_id = fake.enqueue("echo")
    await wait_for(lambda: task_id in fake.results, what="the result")
    assert [p["task_id"] for p in fake.result_posts] == [task_id]


async def test_a_refused_websocket_leaves_results_to_http(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    fake.ws_refused = True
    await start_worker(echo_worker(make_worker))
    task_id = fake.enqueue("echo")
    await wait_for(lambda: task_id in fake.results, what="the result")
    assert [p["task_id"] for p in fake.result_posts] == [task_id]
    assert fake.ws_result_messages == []


async def test_a_socket_closed_before_the_answer_sends_the_result_over_http(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    fake.ws_answers = ["close"]
    await _run(fake, make_worker, start_worker)
    first = fake.enqueue("echo", {"n": 1})
    await wait_for(lambda: first in fake.results, what="the first result")
    assert [p["task_id"] for p in fake.result_posts] == [first]
    assert [m["body"]["task_id"] for m in fake.ws_result_messages] == [first]

    # The channel reconnects, and the socket carries results again.
    await wait_for(lambda: fake.ws_connects == 2 and fake.sockets, 5, "the reconnection")
    second = fake.enqueue("echo", {"n": 2})
    await wait_for(lambda: second in fake.results, what="the second result")
    assert [p["task_id"] for p in fake.result_posts] == [first]
    assert fake.ws_result_messages[-1]["body"]["task_id"] == second
    assert fake.ws_result_messages[-1]["id"] == 1, "ids count per connection"


@pytest.mark.parametrize("answer", ["503", "error"])
async def test_an_answer_that_is_no_verdict_sends_the_result_over_http(
    fake: FakeOrchestrator,
    make_worker: Callable[..., Worker],
    start_worker: StartWorker,
    answer: str,
) -> None:
    """A 503 would be retried over HTTP too; an ``error`` means the message was not taken."""
    fake.ws_answers = [answer]
    await _run(fake, make_worker, start_worker)
    task_id = fake.enqueue("echo")
    await wait_for(lambda: task_id in fake.results, what="the result")
    assert [p["task_id"] for p in fake.result_posts] == [task_id]
    assert len(fake.ws_result_messages) == 1


async def test_task_not_held_on_the_websocket_drops_the_result_as_over_http(
    fake: FakeOrchestrator,
    make_worker: Callable[..., Worker],
    start_worker: StartWorker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.ws_answers = ["409"]
    worker = await _run(fake, make_worker, start_worker)
    task_id = fake.enqueue("echo")
    await wait_for(lambda: fake.ws_result_messages and not worker.running_task_ids, what="409")
    assert fake.result_posts == [] and fake.results == {}
    assert f"result for task {task_id} (attempt 1) dropped: worker no longer holds it" in (
        caplog.text
    )
    # the worker goes on: the next task's result is taken
    after = fake.enqueue("echo")
    await wait_for(lambda: after in fake.results, what="the next result")


async def test_a_result_larger_than_the_socket_takes_goes_over_http(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    fake.max_message_bytes = 300
    await _run(fake, make_worker, start_worker)
    small, large = fake.enqueue("echo"), fake.enqueue("echo", {"text": "x" * 300})
    await wait_for(lambda: {small, large} <= set(fake.results), what="both results")
    assert [m["body"]["task_id"] for m in fake.ws_result_messages] == [small]
    assert [p["task_id"] for p in fake.result_posts] == [large]


async def test_a_result_brings_the_next_task_for_the_slot_it_frees(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    fake.ws_next = True
    worker = echo_worker(make_worker, capacity=1)
    await start_worker(worker)
    await wait_for(lambda: fake.sockets, what="the WebSocket")
    tasks = [fake.enqueue("echo", {"n": n}) for n in range(5)]
    await wait_for(lambda: len(fake.results) == 5, what="five results")
    # the first by a poll, each of the others with the result before it: no poll between
    assert fake.handed_out == tasks[:1]
    assert fake.ws_handed == tasks[1:]
    assert [m["next"] for m in fake.ws_result_messages] == [1] * 5
    assert fake.declines == []


async def test_tasks_past_the_slot_freed_are_declined(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    fake.ws_next, fake.ws_hand_extra = True, 1
    worker = echo_worker(make_worker, capacity=1)
    await start_worker(worker)
    await wait_for(lambda: fake.sockets, what="the WebSocket")
    first, second, third = (fake.enqueue("echo", {"n": n}) for n in range(3))
    await wait_for(lambda: len(fake.declines) == 1, what="the decline")
    assert fake.ws_handed == [second, third]
    assert [d["task_id"] for d in fake.declines] == [third]
    await wait_for(lambda: {first, second} <= set(fake.results), what="two results")


async def test_no_next_is_asked_of_an_orchestrator_that_does_not_offer_it(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    await _run(fake, make_worker, start_worker)
    fake.enqueue("echo")
    await wait_for(lambda: fake.results, what="the result")
    assert "next" not in fake.ws_result_messages[0]


@pytest.fixture
async def channel(orch_url: str) -> AsyncIterator[tuple[OrchestratorClient, CommandChannel]]:
    """A client and its command channel, without a worker around them: the ack's timeout
    can be short here."""
    settings = WorkerSettings(url=orch_url, token=TOKEN, worker_id="w-1", poll_timeout_s=1.0)
    channel = CommandChannel(settings, lambda *_: None)
    running = asyncio.create_task(channel.run())
    try:
        async with OrchestratorClient(settings, ack_timeout_s=0.2) as client:
            await wait_for(lambda: channel.takes_results, what="the hello")
            yield client, channel
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


def _body(task_id: str = "task-1") -> dict[str, Any]:
    return {"job_id": "job-1", "task_id": task_id, "worker_id": "w-1", "attempt": 1}


async def test_no_answer_in_time_sends_the_result_over_http(
    fake: FakeOrchestrator, channel: tuple[OrchestratorClient, CommandChannel]
) -> None:
    fake.ws_answers = ["silent"]
    client, socket = channel
    body = _body() | {"status": "success"}
    assert await client.submit_result(body, socket) == "result_accepted_success"
    assert fake.result_posts == [body]
    assert [m["body"] for m in fake.ws_result_messages] == [body]


async def test_a_refused_token_on_the_websocket_stops_as_over_http(
    fake: FakeOrchestrator, channel: tuple[OrchestratorClient, CommandChannel]
) -> None:
    fake.ws_answers = ["403"]
    client, socket = channel
    with pytest.raises(AuthError):
        await client.submit_result(_body() | {"status": "success"}, socket)
    assert fake.result_posts == []
