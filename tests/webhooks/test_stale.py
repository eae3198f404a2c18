"""Entries whose event did not happen (a lost commit) or no longer matters are not sent."""

from __future__ import annotations

import time

from orchestrator.appkeys import RUNNER
from orchestrator.engine import machine
from orchestrator.engine.effects import Effects
from orchestrator.engine.events import record
from orchestrator.engine.model import JobStatus
from orchestrator.webhooks.outbox import Entry, Outbox
from tests.api.conftest import Api
from tests.helpers import wait_for
from tests.webhooks.conftest import Receiver, outbox_entries


async def test_the_entry_of_a_commit_that_lost_is_dropped_not_sent(
    api: Api, receiver: Receiver
) -> None:
    """Two processes move the job from the same read; one wins. The loser's entry was written
    before its guarded job write failed: the sender finds no such event and drops it."""
    job_id = await api.create(webhook_url=receiver.url)
    await api.wait_status(job_id, "waiting_for_worker")
    runner = api.app[RUNNER]
    before = await api.store.load(job_id)
    assert before is not None
    now = time.time()

    won, effects = machine.cancel(before, now)
    assert await runner.commit(before, won, effects)
    # same event id as the winner's, another type
    lost_same_id = machine.fail(before, "LOST", "lost the race", now)
    assert not await runner.commit(before, lost_same_id, Effects())
    # an event id the job never reaches
    longer = record(record(before, now, "noise"), now, "noise")
    lost_beyond = machine.fail(longer, "LOST", "lost the race", now)
    assert not await runner.commit(before, lost_beyond, Effects())

    await wait_for(lambda: _empty(api), what="every entry to be sent or dropped")

    assert [d.body["event"] for d in receiver.requests] == ["job.cancelled"]


async def test_entries_for_unknown_jobs_and_malformed_entries_are_dropped(
    api: Api, receiver: Receiver
) -> None:
    outbox = Outbox(api.store)
    await outbox.add(Entry("no-such-job", 3, JobStatus.FINISHED), time.time())
    await api.store.redis.zadd(api.store.keys.webhook_outbox, {"not json": 0})

    await wait_for(lambda: _empty(api), what="the stale entries to be dropped")

    assert receiver.requests == []


async def test_a_human_wait_decided_before_its_delivery_is_not_sent(
    api: Api, receiver: Receiver
) -> None:
    """Its approval token is no use any more; the outcome is delivered instead."""
    receiver.default = 500
    job_id = await api.create(endpoint="v1/approval", webhook_url=receiver.url)
    await receiver.wait_requests(1)
    token = (await api.job(job_id))["approval"]["token"]
    resp = await api.client.post(
        f"/_public/webhooks/approval/{job_id}",
        json={"decision": "reject"},
        headers={"X-Approval-Token": token},
    )
    assert resp.status == 200, await resp.text()
    receiver.default = 200

    await receiver.wait_delivered(1)
    await wait_for(lambda: _empty(api), what="the outbox to empty")

    assert [d.body["event"] for d in receiver.delivered] == ["job.failed"]
    assert receiver.delivered[0].body["error"]["code"] == "REJECTED"
    assert receiver.requests[0].body["event"] == "job.waiting_for_human"  # tried, refused


async def _empty(api: Api) -> bool:
    return await outbox_entries(api) == []
