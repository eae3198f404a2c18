"""engine/machine.py: every status change, from records in and records out."""

from __future__ import annotations

import dataclasses
import random

import pytest

from orchestrator.engine import machine
from orchestrator.engine.actions import Fail, Finish, GoTo
from orchestrator.engine.effects import Effects
from orchestrator.engine.model import JobStatus, RetryPolicy, TaskStatus
from orchestrator.engine.retry import backoff_s
from tests.builders import NOW, STATES, dispatch, leased, new_job, waiting_job

LATER = NOW + 5

NO_JITTER = RetryPolicy(max_attempts=3, initial_interval_s=2.0, jitter=0.0)


def test_start_enters_the_start_state_and_runs() -> None:
    job, effects = machine.start(new_job(), NOW)

    assert job.status == JobStatus.RUNNING
    assert job.state == "start"
    assert job.state_history == [{"state": "start", "entered_at": NOW}]
    assert effects == Effects()


def test_start_arms_the_result_deadline() -> None:
    job, effects = machine.start(new_job("j9", result_timeout_s=30.0), NOW)

    assert effects.timers == [("result|j9||0", NOW + 30.0)]
    assert job.result_deadline == NOW + 30.0


@pytest.mark.parametrize(
    ("action", "status", "state", "result", "error"),
    [
        (GoTo("work"), JobStatus.RUNNING, "work", None, None),
        (Finish({"ok": True}), JobStatus.FINISHED, "start", {"ok": True}, None),
        (Fail("BAD_INPUT", "no order"), JobStatus.FAILED, "start", None, "BAD_INPUT"),
        (GoTo("nowhere"), JobStatus.FAILED, "start", None, "INVALID_TRANSITION"),
    ],
    ids=["go_to", "finish", "fail", "go_to-unknown"],
)
def test_enter_applies_the_chosen_action(
    action: GoTo | Finish | Fail,
    status: JobStatus,
    state: str,
    result: object,
    error: str | None,
) -> None:
    started, _ = machine.start(new_job(), NOW)

    job, effects = machine.enter(started, STATES, action, LATER)

    assert job.status == status
    assert job.state == state
    assert job.result == result
    assert (job.error or {}).get("code") == error
    assert job.updated_at == LATER
    assert job.finished_at == (LATER if job.terminal else None)
    assert effects == Effects()


def test_go_to_appends_to_the_state_history() -> None:
    started, _ = machine.start(new_job(), NOW)

    job, _ = machine.enter(started, STATES, GoTo("work"), LATER)

    assert [h["state"] for h in job.state_history] == ["start", "work"]
    assert job.state_history[-1]["entered_at"] == LATER


def test_invalid_transition_names_the_missing_state() -> None:
    started, _ = machine.start(new_job(), NOW)

    job, _ = machine.enter(started, STATES, GoTo("nowhere"), NOW)

    assert job.error is not None
    assert job.error["message"] == "no state(s) nowhere"


def test_dispatch_task_queues_a_task_and_waits_for_a_worker() -> None:
    job, effects = waiting_job("j1", action=dispatch("resize", priority=4))

    task = job.task
    assert job.status == JobStatus.WAITING_FOR_WORKER
    assert task is not None
    assert (task.task_id, task.task_type, task.attempt, task.status) == (
        "j1.1",
        "resize",
        1,
        TaskStatus.QUEUED,
    )
    assert task.params == {"n": 1}
    assert task.queued_at == NOW
    assert task.ref == "j1|j1.1|1|4"
    assert job.task_seq == 1
    assert effects.enqueue == [("resize", "j1|j1.1|1|4", 4)]
    assert effects.timers == []


def test_second_dispatch_gets_the_next_task_id() -> None:
    job, _ = waiting_job("j1")
    job = job.evolve(task=None, status=JobStatus.RUNNING)

    job, _ = machine.enter(job, STATES, dispatch(), LATER)

    assert job.task is not None
    assert job.task.task_id == "j1.2"
    assert job.task_seq == 2


@pytest.mark.parametrize(
    ("job_timeout", "task_timeout", "due"),
    [(None, None, None), (10.0, None, NOW + 10), (10.0, 3.0, NOW + 3), (None, 3.0, NOW + 3)],
)
def test_dispatch_timer_uses_the_task_timeout_over_the_job_one(
    job_timeout: float | None, task_timeout: float | None, due: float | None
) -> None:
    job, effects = waiting_job(
        "j1", action=dispatch(dispatch_timeout=task_timeout), dispatch_timeout_s=job_timeout
    )

    expected = [] if due is None else [("dispatch|j1|j1.1|1", due)]
    assert effects.timers == expected


def test_dispatch_to_unknown_states_fails_naming_them() -> None:
    action = dispatch(transitions={"success": "ghost", "failure": "done", "x": "alpha"})

    job, effects = waiting_job(action=action)

    assert job.status == JobStatus.FAILED
    assert job.error is not None
    assert job.error["code"] == "INVALID_TRANSITION"
    assert "alpha, ghost" in job.error["message"]
    assert job.task is None
    assert effects.enqueue == []


# -- on_result -------------------------------------------------------------------------------


def test_mapped_result_moves_and_stores_results_and_context() -> None:
    job, _ = waiting_job("j1")
    job = leased(job.evolve(context={"kept": 1, "n": 0}))
    ref = job.task.ref if job.task else ""

    out = machine.on_result(job, status="success", data={"n": 5}, err=None, now=LATER)

    assert out.moved is True
    assert out.answer == "result_accepted_success"
    assert out.job.status == JobStatus.RUNNING
    assert out.job.state == "done"
    assert out.job.task is None
    assert out.job.results == {"start": {"n": 5}}
    assert out.job.context == {"kept": 1, "n": 5}
    assert out.job.last_task == {
        "task_id": "j1.1",
        "worker": "worker-1",
        "attempt": 1,
        "answer": "result_accepted_success",
    }
    assert [h["state"] for h in out.job.state_history] == ["start", "done"]
    assert out.effects.release == [("echo", ref)]
    assert out.effects.delay == []


def test_mapped_failure_status_moves_too() -> None:
    job, _ = waiting_job()

    out = machine.on_result(
        leased(job), status="failure", data=None, err={"code": "NOPE"}, now=LATER
    )

    assert out.moved is True
    assert out.job.state == "rejected"
    assert out.job.results == {"start": {}}


def test_retryable_error_requeues_the_next_attempt_with_backoff() -> None:
    job, _ = waiting_job("j1", action=dispatch(retry_policy=NO_JITTER, dispatch_timeout=9.0))
    job = leased(job)
    err = {"code": "BUSY", "retryable": True}

    out = machine.on_result(job, status="failure", data=None, err=err, now=LATER)

    task = out.job.task
    assert out.answer == "result_accepted_retrying"
    assert out.moved is False
    assert out.job.status == JobStatus.WAITING_FOR_WORKER
    assert task is not None
    assert (task.attempt, task.status, task.worker, task.leased_at) == (
        2,
        TaskStatus.QUEUED,
        None,
        None,
    )
    assert task.queued_at == LATER + 2.0
    assert out.effects.release == [("echo", "j1|j1.1|1|0")]
    assert out.effects.delay == [("echo", "j1|j1.1|2|0", LATER + 2.0)]
    assert out.effects.timers == [("dispatch|j1|j1.1|2", LATER + 2.0 + 9.0)]


def test_retry_delay_grows_with_each_attempt() -> None:
    job, _ = waiting_job(action=dispatch(retry_policy=RetryPolicy(max_attempts=5, jitter=0.0)))
    delays = []
    for _ in range(3):
        out = machine.on_result(
            leased(job), status="failure", data=None, err={"retryable": True}, now=NOW
        )
        job = out.job
        delays.append(out.effects.delay[0][2] - NOW)

    assert delays == [1.0, 2.0, 4.0]
    assert job.task is not None
    assert job.task.attempt == 4


def test_retryable_error_on_the_last_attempt_exhausts_retries() -> None:
    job, _ = waiting_job(action=dispatch(retries=1, transitions={"success": "done"}))
    assert job.task is not None
    job = leased(job.evolve(task=dataclasses.replace(job.task, attempt=2)))
    err = {"code": "BUSY", "message": "try later", "retryable": True}

    out = machine.on_result(job, status="failure", data=None, err=err, now=LATER)

    assert out.job.status == JobStatus.FAILED
    assert out.job.error == {
        "code": "RETRIES_EXHAUSTED",
        "message": "try later",
        "details": {"last_error": "BUSY", "attempts": 2},
    }
    assert out.job.task is None
    assert out.effects.delay == []
    assert out.answer == "result_accepted_failure"


@pytest.mark.parametrize(
    ("err", "code", "message"),
    [
        ({"code": "NOT_FOUND", "message": "no audit"}, "NOT_FOUND", "no audit"),
        ({"code": "NOT_FOUND", "retryable": False}, "NOT_FOUND", "task echo failed"),
        (None, "TASK_FAILED", "task echo failed"),
    ],
)
def test_unmapped_failure_fails_the_job_with_the_error_code(
    err: dict[str, object] | None, code: str, message: str
) -> None:
    job, _ = waiting_job(action=dispatch(transitions={"success": "done"}))

    out = machine.on_result(leased(job), status="failure", data=None, err=err, now=LATER)

    assert out.job.status == JobStatus.FAILED
    assert out.job.error == {"code": code, "message": message, "details": {"task_type": "echo"}}
    assert out.job.finished_at == LATER
    assert out.moved is False


def test_unmapped_custom_status_quarantines_the_job() -> None:
    job, _ = waiting_job(action=dispatch(transitions={"success": "done", "failure": "rejected"}))

    out = machine.on_result(leased(job), status="maybe", data={"x": 1}, err=None, now=LATER)

    assert out.job.status == JobStatus.QUARANTINED
    assert out.job.error is not None
    assert out.job.error["code"] == "UNMAPPED_TASK_STATUS"
    assert "'maybe'" in out.job.error["message"]
    assert "['failure', 'success']" in out.job.error["message"]
    assert out.job.context == {}
    assert out.job.task is None
    assert out.moved is False


def test_a_non_retryable_code_is_not_retried() -> None:
    policy = RetryPolicy(max_attempts=5, non_retryable=("BAD_INPUT",))
    job, _ = waiting_job(action=dispatch(retry_policy=policy, transitions={"success": "done"}))
    err = {"code": "BAD_INPUT", "message": "no", "retryable": True}

    out = machine.on_result(leased(job), status="failure", data=None, err=err, now=LATER)

    assert out.job.status == JobStatus.FAILED
    assert out.job.error is not None
    assert out.job.error["code"] == "BAD_INPUT"
    assert out.effects.delay == []


def test_a_caught_error_code_moves_instead_of_failing() -> None:
    action = dispatch(transitions={"success": "done"}, catch={"NOT_FOUND": "rejected"})
    job, _ = waiting_job(action=action)
    err = {"code": "NOT_FOUND", "message": "no audit"}

    out = machine.on_result(leased(job), status="failure", data=None, err=err, now=LATER)

    assert out.moved is True
    assert out.job.status == JobStatus.RUNNING
    assert out.job.state == "rejected"


def test_a_result_that_breaks_its_schema_quarantines_the_job() -> None:
    schema = {"type": "object", "required": ["score"], "properties": {"score": {"type": "number"}}}
    job, _ = waiting_job(action=dispatch(result_schema=schema))

    out = machine.on_result(
        leased(job), status="success", data={"score": "high"}, err=None, now=LATER
    )

    assert out.job.status == JobStatus.QUARANTINED
    assert out.job.error is not None
    assert out.job.error["code"] == "RESULT_SCHEMA_VIOLATION"
    assert "data.score" in out.job.error["message"]
    assert out.job.context == {}


def test_on_result_requires_a_leased_task() -> None:
    job, _ = waiting_job()

    with pytest.raises(AssertionError):
        machine.on_result(job, status="success", data={}, err=None, now=LATER)


# -- lease expiry, cancel, timeouts ----------------------------------------------------------


def test_lost_lease_requeues_the_next_attempt() -> None:
    job, _ = waiting_job("j1", action=dispatch(retry_policy=NO_JITTER))

    held = leased(job)
    assert held.task is not None

    after, effects = machine.lease_expired(held, held.task, LATER)

    assert after.status == JobStatus.WAITING_FOR_WORKER
    assert after.task is not None
    assert (after.task.attempt, after.task.status, after.task.worker) == (2, "queued", None)
    assert effects.release == [("echo", "j1|j1.1|1|0")]
    assert effects.delay == [("echo", "j1|j1.1|2|0", LATER + 2.0)]


def test_lost_lease_on_the_last_attempt_fails_the_job() -> None:
    job, _ = waiting_job("j1", action=dispatch(retries=0))
    held = leased(job)
    assert held.task is not None

    after, effects = machine.lease_expired(held, held.task, LATER)

    assert after.status == JobStatus.FAILED
    assert after.error is not None
    assert after.error["code"] == "HEARTBEAT_TIMEOUT"
    assert after.error["details"] == {"task_type": "echo", "attempts": 1}
    assert after.task is None
    assert effects.release == [("echo", "j1|j1.1|1|0")]
    assert effects.delay == []


def test_cancel_of_a_leased_task_drops_it_and_tells_the_worker() -> None:
    job, _ = waiting_job("j1")

    after, effects = machine.cancel(leased(job, "w7"), LATER)

    assert after.status == JobStatus.CANCELLED
    assert after.error is not None
    assert after.error["code"] == "CANCELLED"
    assert after.task is None
    assert effects.drop == [("echo", "j1|j1.1|1|0")]
    assert effects.cancel == [("w7", "j1", "j1.1", 1)]


def test_cancel_of_a_queued_task_only_drops_it() -> None:
    job, _ = waiting_job("j1")

    after, effects = machine.cancel(job, LATER)

    assert after.status == JobStatus.CANCELLED
    assert effects.drop == [("echo", "j1|j1.1|1|0")]
    assert effects.cancel == []


def test_cancel_without_a_task_has_no_effects() -> None:
    started, _ = machine.start(new_job(), NOW)

    after, effects = machine.cancel(started, LATER)

    assert after.status == JobStatus.CANCELLED
    assert after.finished_at == LATER
    assert effects == Effects()


def test_a_dispatch_timeout_fails_the_job() -> None:
    job, _ = waiting_job("j1", action=dispatch(dispatch_timeout=3.0))
    assert job.task is not None

    after, effects = machine.dispatch_timed_out(job, job.task, LATER)

    assert after.status == JobStatus.FAILED
    assert after.error is not None
    assert after.error["code"] == "DISPATCH_TIMEOUT"
    assert after.task is None
    assert set(effects.drop) == {("echo", "j1|j1.1|1|0")}  # (listed twice today: harmless)
    assert effects.cancel == []


@pytest.mark.parametrize("held", [False, True], ids=["queued", "leased"])
def test_a_result_timeout_fails_the_job_and_stops_its_task(held: bool) -> None:
    job, _ = waiting_job("j1", result_timeout_s=60.0)
    job = leased(job, "w3") if held else job

    after, effects = machine.result_timed_out(job, LATER)

    assert after.status == JobStatus.FAILED
    assert after.error is not None
    assert after.error["code"] == "RESULT_TIMEOUT"
    assert after.task is None
    assert effects.drop == [("echo", "j1|j1.1|1|0")]
    assert effects.cancel == ([("w3", "j1", "j1.1", 1)] if held else [])


def test_requeue_jitter_comes_from_the_given_rng() -> None:
    policy = RetryPolicy(max_attempts=3, initial_interval_s=10.0, jitter=0.5)
    job, _ = waiting_job(action=dispatch(retry_policy=policy))

    held = leased(job)
    assert held.task is not None

    _, effects = machine.lease_expired(held, held.task, NOW, rng=random.Random(42))

    assert effects.delay[0][2] == NOW + backoff_s(policy, 1, random.Random(42))
    assert effects.delay[0][2] != NOW + 10.0
