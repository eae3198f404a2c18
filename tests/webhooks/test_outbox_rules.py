"""Pure rules: which transitions owe a delivery, and when a stored job bears an entry out."""

from __future__ import annotations

import pytest

from orchestrator.engine import machine, waits
from orchestrator.engine.actions import AwaitHuman, Finish
from orchestrator.engine.model import Job, JobStatus
from orchestrator.webhooks.outbox import Entry, Verdict, check, entry_for
from tests.builders import NOW, STATES, new_job, waiting_job

HOOK = "https://hooks.example/x"


def human(job: Job, state: str = "start") -> Job:
    waiting, _ = waits.await_human(
        job.evolve(state=state), AwaitHuman({"ok": "done"}, None, None), NOW
    )
    return waiting


def test_a_transition_into_a_notified_status_owes_one_entry_naming_its_event() -> None:
    before, _ = waiting_job(webhook_url=HOOK)
    after, _ = machine.cancel(before, NOW)

    entry = entry_for(before, after)

    assert entry == Entry(before.id, len(after.history), JobStatus.CANCELLED)
    assert after.history[-1]["type"] == "job_cancelled"
    assert entry is not None and entry.webhook_id == f"{before.id}:{len(after.history)}"


def test_no_entry_without_a_webhook_url() -> None:
    before, _ = waiting_job()
    after, _ = machine.cancel(before, NOW)

    assert entry_for(before, after) is None


@pytest.mark.parametrize("status", ["pending", "running", "waiting_for_worker"])
def test_no_entry_for_statuses_that_are_not_notified(status: str) -> None:
    before = new_job(webhook_url=HOOK)
    after, _ = machine.start(before, NOW)
    after = after.evolve(status=JobStatus(status))

    assert entry_for(before, after) is None


def test_no_entry_when_the_transition_recorded_no_such_event() -> None:
    """A job already failed that changes again (no new job_failed event) owes nothing."""
    before, _ = waiting_job(webhook_url=HOOK)
    failed = machine.fail(before, "X", "x", NOW)

    assert entry_for(failed, failed.evolve(updated_at=NOW + 1)) is None


def test_a_new_human_wait_right_after_another_owes_an_entry() -> None:
    before = human(new_job(webhook_url=HOOK))
    decided = waits.decide(before, "ok", NOW)
    after = human(decided, "done")

    entry = entry_for(before, after)

    assert before.status == after.status == JobStatus.WAITING_FOR_HUMAN
    assert entry == Entry(before.id, len(after.history), JobStatus.WAITING_FOR_HUMAN)


def test_a_finish_owes_an_entry_even_with_events_after_it_in_the_same_step() -> None:
    before, _ = waiting_job(webhook_url=HOOK)
    finished, _ = machine.enter(before, STATES, Finish({"ok": 1}), NOW)
    event_id = len(finished.history)
    after = finished.evolve(history=[*finished.history, {"id": event_id + 1, "type": "x"}])

    assert entry_for(before, after) == Entry(before.id, event_id, JobStatus.FINISHED)


def test_entries_survive_their_member_text() -> None:
    entry = Entry("job-9", 12, JobStatus.QUARANTINED, attempt=4)

    assert Entry.parse(entry.member()) == entry
    assert Entry.parse(entry.next_attempt().member()) == Entry("job-9", 12, entry.status, 5)


@pytest.mark.parametrize(
    "member",
    [
        "not json",
        "[]",
        '{"job_id": "j"}',
        '{"job_id": "j", "event_id": 1, "status": "running", "attempt": 1}',
        '{"job_id": "j", "event_id": "x", "status": "failed", "attempt": 1}',
    ],
)
def test_malformed_members_parse_to_none(member: str) -> None:
    assert Entry.parse(member) is None


def cancelled() -> tuple[Job, Entry]:
    before, _ = waiting_job(webhook_url=HOOK)
    after, _ = machine.cancel(before, NOW)
    entry = entry_for(before, after)
    assert entry is not None
    return after, entry


def test_a_stored_event_of_the_entry_is_sent() -> None:
    job, entry = cancelled()

    assert check(job, entry) == (Verdict.SEND, job.history[-1])


def test_another_event_under_the_entrys_id_means_its_commit_lost() -> None:
    job, entry = cancelled()
    lost = Entry(job.id, entry.event_id, JobStatus.FAILED)

    assert check(job, lost)[0] is Verdict.STALE


@pytest.mark.parametrize("stored", [None, "shorter"])
def test_a_missing_job_or_event_may_still_be_on_its_way(stored: str | None) -> None:
    job, entry = cancelled()
    shorter = job.evolve(history=job.history[:-1])

    assert check(None if stored is None else shorter, entry)[0] is Verdict.NOT_YET


def test_a_job_without_a_webhook_url_is_stale() -> None:
    job, entry = cancelled()

    assert check(job.evolve(webhook_url=None), entry)[0] is Verdict.STALE


def test_a_human_wait_is_sent_only_while_the_job_is_in_it() -> None:
    waiting = human(new_job(webhook_url=HOOK))
    entry = Entry(waiting.id, len(waiting.history), JobStatus.WAITING_FOR_HUMAN)
    again = human(waits.decide(waiting, "ok", NOW), "done")

    assert check(waiting, entry)[0] is Verdict.SEND
    assert check(waits.decide(waiting, "ok", NOW), entry)[0] is Verdict.OVER
    assert check(again, entry)[0] is Verdict.OVER
