"""What a handler's outcome means (``engine/handled.py``) and what a worker's result means for
its task (``engine/results.py``): pure rules, tested without a store or a handler."""

from __future__ import annotations

import dataclasses

import pytest

from orchestrator.engine import handled, machine
from orchestrator.engine.actions import ActionError, Finish, GoTo, RunBlueprint
from orchestrator.engine.inject import MissingArgument
from orchestrator.engine.model import Job, JobStatus, RetryPolicy
from orchestrator.engine.results import judge
from tests.builders import NOW, STATES, leased, new_job, waiting_job


def running() -> Job:
    job, _ = machine.start(new_job(), NOW)
    return job


def known(name: str) -> bool:
    return name == "child"


def code(job: Job) -> str | None:
    return job.error["code"] if job.error else None


def test_no_action_in_a_state_that_is_not_an_end_fails_the_job() -> None:
    job, effects = handled.returned(running(), STATES, "start", False, None, 1, NOW, known)

    assert (job.status, code(job)) == (JobStatus.FAILED, "NO_ACTION")
    assert effects.enqueue == []


def test_no_action_in_an_end_state_finishes_with_the_returned_value() -> None:
    job, _ = handled.returned(running(), STATES, "start", True, None, {"ok": 1}, NOW, known)

    assert (job.status, job.result) == (JobStatus.FINISHED, {"ok": 1})


def test_an_end_state_may_not_go_elsewhere() -> None:
    job, _ = handled.returned(running(), STATES, "start", True, GoTo("work"), None, NOW, known)

    assert (job.status, code(job)) == (JobStatus.FAILED, "INVALID_TRANSITION")


def test_an_end_state_may_finish() -> None:
    job, _ = handled.returned(running(), STATES, "start", True, Finish(2), None, NOW, known)

    assert (job.status, job.result) == (JobStatus.FINISHED, 2)


@pytest.mark.parametrize(("name", "status"), [("child", "waiting"), ("nope", "failed")])
def test_a_child_of_an_unknown_blueprint_fails_the_job(name: str, status: str) -> None:
    action = RunBlueprint(name, {}, {"finished": "done"})

    job, effects = handled.returned(running(), STATES, "start", False, action, None, NOW, known)

    assert job.status.value.startswith(status)
    assert (code(job) == "UNKNOWN_BLUEPRINT") == (status == "failed")
    assert bool(effects.children) == (status == "waiting")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ActionError("BAD_ACTION", "no"), "BAD_ACTION"),
        (MissingArgument("start", ["x"]), "HANDLER_ARGUMENT_MISSING"),
        (ValueError("boom"), "HANDLER_ERROR"),
    ],
)
def test_a_handler_that_raised_fails_the_job_with_the_code_of_the_error(
    exc: Exception, expected: str
) -> None:
    assert code(handled.raised(running(), "start", exc, NOW)) == expected


def test_too_many_hops_is_a_transition_loop() -> None:
    job = handled.looped(running(), NOW)

    assert code(job) == "TRANSITION_LOOP"
    assert str(handled.MAX_HOPS) in str(job.error)


@pytest.mark.parametrize(
    ("err", "attempt", "again"),
    [
        ({"code": "X", "retryable": True}, 1, True),
        ({"code": "X", "retryable": True}, 3, False),
        ({"code": "NOPE", "retryable": True}, 1, False),
        ({"code": "X"}, 1, False),
    ],
)
def test_judge_gives_another_attempt_only_to_a_retryable_error_with_attempts_left(
    err: dict[str, object], attempt: int, again: bool
) -> None:
    held = leased(waiting_job()[0]).task
    assert held is not None
    policy = RetryPolicy(max_attempts=3, non_retryable=("NOPE",))
    task = dataclasses.replace(held, attempt=attempt, retry=policy)

    verdict = judge(task, "failure", err)

    assert (verdict.failure, verdict.again) == (True, again)
    assert verdict.code == err["code"]


def test_judge_reads_a_success_without_error_as_no_failure() -> None:
    job, _ = waiting_job()
    assert job.task is not None

    verdict = judge(job.task, "success", None)

    assert (verdict.failure, verdict.retryable, verdict.code) == (False, False, "TASK_FAILED")
