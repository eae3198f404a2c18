"""Register, poll, run and report: the happy path and how outcomes map to result bodies."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from worker_sdk import RetryLater, TaskContext, TaskError, TaskResult, Worker
from worker_sdk.context import current_context

from .conftest import StartWorker, wait_for
from .fake_orchestrator import TOKEN, FakeOrchestrator


async def test_async_and_sync_handlers_report_success(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker(tags=["gpu"])
    seen: dict[str, Any] = {}

    @worker.task("echo")
    async def echo(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        seen["ctx"] = ctx
        return {"echo": params}

    @worker.task("shout")
    def shout(params: dict[str, Any]) -> dict[str, Any]:
        seen["thread"] = threading.current_thread() is not threading.main_thread()
        seen["current_task_id"] = current_context().task_id
        return {"text": params["text"].upper()}

    await start_worker(worker)
    echo_id = fake.enqueue("echo", {"a": 1}, attempt=2, max_attempts=5)
    shout_id = fake.enqueue("shout", {"text": "hi"})
    await wait_for(lambda: len(fake.results) == 2, what="two results")

    assert fake.registrations == [
        {
            "worker_id": "w-1",
            "supported_skills": ["echo", "shout"],
            "capacity": 2,
            "tags": ["gpu"],
            "labels": {},
        }
    ]
    assert fake.headers_seen == {TOKEN}
    assert fake.poll_params[0] == {"timeout": "1", "max": "2"}  # both slots free
    assert fake.results[echo_id] == {
        "job_id": "job-1",
        "task_id": echo_id,
        "worker_id": "w-1",
        "attempt": 2,  # the attempt that ran: the orchestrator applies the result to it only
        "status": "success",
        "data": {"echo": {"a": 1}},
        "error": None,
    }
    assert fake.results[shout_id]["data"] == {"text": "HI"}
    ctx = seen["ctx"]
    assert (ctx.job_id, ctx.task_type, ctx.attempt, ctx.max_attempts) == ("job-1", "echo", 2, 5)
    assert seen["thread"] is True
    assert seen["current_task_id"] == shout_id


async def test_outcomes_map_to_result_bodies(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker(capacity=4)

    @worker.task("task_error")
    async def task_error(params: dict[str, Any]) -> None:
        raise TaskError("MISSING_FIELDS", "to is required", data={"missing": ["to"]})

    @worker.task("retry_later")
    async def retry_later(params: dict[str, Any]) -> None:
        raise RetryLater("smtp busy")

    @worker.task("custom_error")
    async def custom_error(params: dict[str, Any]) -> None:
        raise TaskError("NO_SUCH_AUDIT", "audit 7", status="not_found")

    @worker.task("custom_result")
    async def custom_result(params: dict[str, Any]) -> TaskResult:
        return TaskResult("not_found", {"id": 7})

    @worker.task("crash")
    def crash(params: dict[str, Any]) -> None:
        raise KeyError("boom")

    @worker.task("none")
    async def none(params: dict[str, Any]) -> None:
        return None

    await start_worker(worker)
    ids = {name: fake.enqueue(name) for name in sorted(worker.task_types)}
    await wait_for(lambda: len(fake.results) == len(ids), what="every result")

    def summary(name: str) -> tuple[Any, ...]:
        body = fake.results[ids[name]]
        return body["status"], body["data"], body["error"]

    assert summary("task_error") == (
        "failure",
        {"missing": ["to"]},
        {"code": "MISSING_FIELDS", "message": "to is required", "retryable": False},
    )
    assert summary("retry_later") == (
        "failure",
        None,
        {"code": "RETRY_LATER", "message": "smtp busy", "retryable": True},
    )
    assert summary("custom_error") == (
        "not_found",
        None,
        {"code": "NO_SUCH_AUDIT", "message": "audit 7", "retryable": False},
    )
    assert summary("custom_result") == ("not_found", {"id": 7}, None)
    assert summary("crash") == (
        "failure",
        None,
        {"code": "HANDLER_ERROR", "message": "KeyError('boom')", "retryable": False},
    )
    assert summary("none") == ("success", None, None)


async def test_capacity_limits_running_tasks_and_polls(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker(capacity=1)
    release = asyncio.Event()
    running = 0
    max_running = 0

    @worker.task("block")
    async def block(params: dict[str, Any]) -> None:
        nonlocal running, max_running
        running += 1
        max_running = max(max_running, running)
        await release.wait()
        running -= 1

    await start_worker(worker)
    first = fake.enqueue("block")
    second = fake.enqueue("block")
    await wait_for(lambda: running == 1, what="first task running")
    assert worker.running_task_ids == [first]
    assert fake.active_polls == 0  # no poll while the only slot is busy
    assert second not in fake.handed_out
    release.set()
    await wait_for(lambda: len(fake.results) == 2, what="both results")
    assert max_running == 1
    assert fake.max_active_polls == 1


async def test_poll_retries_after_server_errors(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker()

    @worker.task("echo")
    async def echo(params: dict[str, Any]) -> dict[str, Any]:
        return params

    fake.poll_failures = [503, 502]
    polls_before = len(fake.poll_params)
    await start_worker(worker)
    task_id = fake.enqueue("echo", {"x": 1})
    await wait_for(lambda: task_id in fake.results, what="result after poll errors")
    assert len(fake.poll_params) >= polls_before + 3
    assert fake.poll_failures == []


async def test_unknown_task_type_is_reported(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker()

    @worker.task("echo")
    async def echo(params: dict[str, Any]) -> None:
        return None

    await start_worker(worker)
    task_id = fake.enqueue("mystery")
    await wait_for(lambda: task_id in fake.results)
    assert fake.results[task_id]["error"]["code"] == "UNKNOWN_TASK_TYPE"
