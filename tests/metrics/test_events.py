"""How a stored transition (before, after) maps to metric events: pure, no app."""

from __future__ import annotations

from orchestrator.engine import machine
from orchestrator.engine.model import RetryPolicy
from orchestrator.metrics import events, new_history
from tests.builders import NOW, dispatch, leased, new_job, waiting_job

ONE_TRY = RetryPolicy(max_attempts=1)


def test_a_new_job_that_ends_at_once_is_created_and_finished() -> None:
    before = new_job()
    started, _ = machine.start(before, NOW)
    after = machine.fail(started, "MISSING_FIELDS", "no", NOW + 2)

    ev = events(before, after)

    assert (ev.created, ev.finished, ev.duration_s) == (True, "failed", 2.0)
    assert ev.queue_waits == ev.executions == []
    assert ev.retries == ev.timeouts == []


def test_a_result_ends_the_delivery_with_wait_and_execution_times() -> None:
    job, _ = waiting_job()
    before = leased(job.evolve(rev=2), at=NOW + 1)

    out = machine.on_result(before, status="success", data={}, err=None, now=NOW + 4)

    ev = events(before, out.job)
    assert not ev.created
    assert ev.queue_waits == [("echo", 1.0)]
    assert ev.executions == [("echo", 3.0)]
    assert ev.retries == ev.lease_expiries == []


def test_a_lost_lease_with_attempts_left_is_an_expiry_a_retry_and_a_timeout() -> None:
    job, _ = waiting_job()
    before = leased(job.evolve(rev=2), at=NOW + 1)
    assert before.task is not None

    after, _ = machine.lease_expired(before, before.task, NOW + 40)

    ev = events(before, after)
    assert ev.lease_expiries == ["echo"]
    assert ev.retries == ["echo"]
    assert ev.timeouts == ["heartbeat"]
    assert ev.executions == []  # no result: the worker's run time is unknown
    assert ev.queue_waits == [("echo", 1.0)]
    assert ev.finished is None


def test_a_lost_lease_on_the_last_attempt_fails_the_job() -> None:
    job, _ = waiting_job(action=dispatch(retry_policy=ONE_TRY))
    before = leased(job.evolve(rev=2))
    assert before.task is not None

    after, _ = machine.lease_expired(before, before.task, NOW + 40)

    ev = events(before, after)
    assert (ev.finished, ev.lease_expiries, ev.retries) == ("failed", ["echo"], [])


def test_a_cancelled_leased_task_has_a_queue_wait_but_no_execution() -> None:
    job, _ = waiting_job()
    before = leased(job.evolve(rev=2), at=NOW + 2)

    after, _ = machine.cancel(before, NOW + 5)

    ev = events(before, after)
    assert ev.finished == "cancelled"
    assert ev.queue_waits == [("echo", 2.0)]
    assert ev.executions == []
    assert ev.timeouts == []


def test_a_dispatch_timeout_counts_by_kind_and_has_no_queue_wait() -> None:
    job, _ = waiting_job(action=dispatch(dispatch_timeout=5))
    before = job.evolve(rev=1)
    assert before.task is not None

    after, _ = machine.dispatch_timed_out(before, before.task, NOW + 5)

    ev = events(before, after)
    assert (ev.finished, ev.timeouts, ev.queue_waits) == ("failed", ["dispatch"], [])


def test_events_already_in_before_are_not_counted_again() -> None:
    job, _ = waiting_job()
    before = leased(job.evolve(rev=2))
    assert before.task is not None
    expired, _ = machine.lease_expired(before, before.task, NOW + 40)

    ev = events(expired, expired.evolve(rev=4))

    assert ev.lease_expiries == ev.retries == ev.timeouts == []


def test_new_history_is_the_tail_past_the_last_id_before() -> None:
    job = new_job()
    before = job.evolve(history=[{"id": i, "type": "x"} for i in (1, 2, 3)])
    # a script's event carries no id: never counted as new, wherever it stands
    added = [{"id": 4, "type": "a"}, {"type": "task_leased"}, {"id": 5, "type": "b"}]
    after = job.evolve(history=[*before.history, *added])
    assert new_history(before, after) == [added[0], added[2]]
    # a trimmed history keeps its ids: only those past 3 are new
    trimmed = job.evolve(history=[{"id": 3, "type": "x"}, added[0], added[2]])
    assert new_history(before, trimmed) == [added[0], added[2]]
    assert new_history(before, before) == []
    assert new_history(job.evolve(history=[]), before) == before.history
