"""worker_sdk.testing.run_task: handlers tested without an orchestrator."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.examples.echo_worker import worker as echo_worker
from worker_sdk import RetryLater, TaskContext, TaskResult, Worker
from worker_sdk.context import current_context
from worker_sdk.testing import run_task


async def test_run_task_with_a_worker() -> None:
    outcome = await run_task(echo_worker, "echo", {"x": 1})
    assert (outcome.status, outcome.data, outcome.error) == ("success", {"echo": {"x": 1}}, None)
    assert outcome.ok


async def test_run_task_with_a_bare_handler_and_context_overrides() -> None:
    async def handler(params: dict[str, Any], ctx: TaskContext) -> TaskResult:
        assert current_context() is ctx
        return TaskResult(
            "seen", {"attempt": ctx.attempt, "job": ctx.job_id, "type": ctx.task_type}
        )

    outcome = await run_task(handler, None, {}, attempt=3, job_id="j-9")
    assert outcome.status == "seen"
    assert outcome.data == {"attempt": 3, "job": "j-9", "type": "handler"}


async def test_run_task_maps_errors_and_keeps_the_exception() -> None:
    def flaky(params: dict[str, Any]) -> None:
        raise RetryLater("later")

    outcome = await run_task(flaky, "flaky", {})
    assert outcome.status == "failure"
    assert outcome.error is not None and outcome.error.retryable
    assert isinstance(outcome.exception, RetryLater)

    def crash(params: dict[str, Any]) -> None:
        raise ValueError("bad")

    outcome = await run_task(crash, "crash", {})
    assert outcome.error is not None
    assert (outcome.error.code, outcome.error.message) == ("HANDLER_ERROR", "ValueError('bad')")


async def test_run_task_reports_results_that_are_not_json() -> None:
    def bad(params: dict[str, Any]) -> object:
        return {"when": object()}

    outcome = await run_task(bad, "bad", {})
    assert outcome.error is not None and outcome.error.code == "INVALID_RESULT"
    outcome = await run_task(lambda params: [1, 2], "list", {})
    assert outcome.error is not None and outcome.error.code == "INVALID_RESULT"


async def test_example_sleep_validates_its_params() -> None:
    outcome = await run_task(echo_worker, "sleep", {"seconds": "soon"})
    assert outcome.error is not None and outcome.error.code == "VALIDATION_ERROR"
    outcome = await run_task(echo_worker, "sleep", {"seconds": 0})
    assert outcome.data == {"slept": 0}


async def test_run_task_rejects_unknown_types_and_fields() -> None:
    with pytest.raises(KeyError, match="nope"):
        await run_task(echo_worker, "nope", {})
    with pytest.raises(TypeError, match="colour"):
        await run_task(echo_worker, "echo", {}, colour="red")


def test_handler_signatures_are_checked_up_front() -> None:
    worker = Worker()
    with pytest.raises(TypeError, match="no positional parameter"):
        worker.task("none")(lambda: None)
    with pytest.raises(TypeError, match="3 required positional"):
        worker.task("three")(lambda a, b, c: None)

    @worker.task("echo")
    def echo(params: dict[str, Any]) -> None:
        return None

    with pytest.raises(ValueError, match="already has a handler"):
        worker.task("echo")(echo)


async def test_a_result_that_is_not_a_dict_is_logged_with_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The worker's log said only "finished with 'failure'": the reason was in the job's
    history alone, where a newcomer watching the worker does not look."""

    def refund(params: dict[str, Any]) -> str:
        return "r-1"

    with caplog.at_level("WARNING", logger="worker_sdk"):
        await run_task(refund, "refund", {}, task_id="t-1", job_id="j-1")

    assert [r.getMessage() for r in caplog.records] == [
        "task t-1 (job j-1) of type refund: handler returned str; expected dict, None or "
        "TaskResult; reported as failure INVALID_RESULT"
    ]
