"""Escalations: durable timers that reassign and notify while the job keeps waiting."""

from __future__ import annotations

import asyncio
import signal
import time

import aiohttp

from orchestrator.storage.redis_store import RedisStore
from tests.helpers import wait_for
from tests.human.conftest import Desk, Humans


async def _timers_of(humans: Humans, job_id: str) -> list[str]:
    return [t for t in await humans.timers() if job_id in t]


async def test_two_escalations_fire_while_the_job_waits_then_a_decision(
    humans: Humans, http: aiohttp.ClientSession
) -> None:
    orch = await humans.orchestrator()
    humans.notify_worker(orch)
    desk = Desk(http, orch)
    job_id = await desk.start(
        "alerts",
        {
            "alert_id": "e-1",
            "due_in": 0.2,
            "escalations": [
                {"after": 0.3, "to_role": "supervisor", "notify": {}},
                # this notice fails: the alert must not care
                {"after": 0.8, "to_assignee": "boss", "notify": {"fail": True}},
            ],
        },
    )
    first, second = await desk.wait_event(job_id, "escalated", 2)
    assert (first["level"], first["from_role"], first["to_role"]) == (1, "compliance", "supervisor")
    assert (second["level"], second["to_role"], second["to_assignee"]) == (2, "supervisor", "boss")
    assert first["reason"] == "due" and first["actor"] is None
    job = await desk.job(job_id)
    assert job["status"] == "waiting_for_human" and job["current_state"] == "review"
    (step,) = (await desk.inbox(assignee="boss"))["items"]
    assert (step["role"], step["escalation_level"], step["overdue"]) == ("supervisor", 2, True)
    assert (await desk.inbox(role="compliance"))["items"] == []

    notices = await wait_for(lambda: _two(humans, job_id), 20, "two notices")
    assert notices == [f"alert {job_id} escalated"] * 2
    sent = await desk.wait_status(first["notify_job_id"], "finished")
    assert sent["parent_job_id"] == job_id
    failed = await desk.wait_status(second["notify_job_id"], "failed")
    assert failed["error"]["code"] == "NOTIFY_DOWN"  # the worker's own code
    assert (await desk.job(job_id))["status"] == "waiting_for_human"

    status, body = await desk.decide(
        job_id, "acknowledge", actor="boss", actor_roles=["supervisor"]
    )
    assert status == 200, body
    await desk.wait_status(job_id, "finished")
    assert len(await desk.wait_event(job_id, "escalated", 2)) == 2  # and no more
    assert await _timers_of(humans, job_id) == []


async def _two(humans: Humans, job_id: str) -> list[str] | None:
    found = await humans.notices(job_id)
    return found if len(found) >= 2 else None


async def test_a_decision_cancels_the_pending_escalations(
    humans: Humans, http: aiohttp.ClientSession
) -> None:
    orch = await humans.orchestrator()
    desk = Desk(http, orch)
    job_id = await desk.start(
        "alerts", {"alert_id": "e-2", "escalations": [{"after": 600}, {"after": 1200}]}
    )
    await desk.wait_status(job_id, "waiting_for_human")
    assert sorted(await _timers_of(humans, job_id)) == [
        f"escalate|{job_id}|1|1",
        f"escalate|{job_id}|1|2",
    ]
    status, body = await desk.decide(job_id, "acknowledge", actor="ana")
    assert status == 200, body
    await desk.wait_status(job_id, "finished")
    assert await _timers_of(humans, job_id) == []


async def test_an_escalation_due_while_no_orchestrator_runs_fires_once_after_restart(
    humans: Humans, http: aiohttp.ClientSession
) -> None:
    doomed = await humans.orchestrator()
    desk = Desk(http, doomed)
    due_in = 1.5
    job_id = await desk.start(
        "alerts", {"alert_id": "k-1", "escalations": [{"after": due_in, "to_role": "night"}]}
    )
    await desk.wait_status(job_id, "waiting_for_human")
    started = time.time()
    doomed.proc.send_signal(signal.SIGKILL)
    doomed.proc.wait()
    member = f"escalate|{job_id}|1|1"
    assert await _timers_of(humans, job_id) == [member]
    # nobody runs while the escalation comes due; it is still there, not fired
    await wait_for(lambda: time.time() > started + due_in + 0.2, 10, "the escalation to be due")
    assert await _timers_of(humans, job_id) == [member]

    # two processes come back: the escalation fires once, not once per process
    back = await asyncio.gather(humans.orchestrator(), humans.orchestrator())
    desk = Desk(http, back[1])
    (event,) = await desk.wait_event(job_id, "escalated")
    assert (event["level"], event["to_role"]) == (1, "night")
    await wait_for(lambda: _gone(humans, job_id), 20, "the fired timer to be dropped")
    assert [e["level"] for e in await desk.wait_event(job_id, "escalated")] == [1]
    assert (await desk.job(job_id))["status"] == "waiting_for_human"
    (step,) = (await Desk(http, back[0]).inbox(role="night"))["items"]
    assert step["job_id"] == job_id


async def _gone(humans: Humans, job_id: str) -> bool:
    return await _timers_of(humans, job_id) == []


async def test_an_escalation_taken_by_a_process_that_died_fires_once_after_its_hold(
    humans: Humans, http: aiohttp.ClientSession
) -> None:
    doomed = await humans.orchestrator()
    desk = Desk(http, doomed)
    job_id = await desk.start("alerts", {"alert_id": "k-2", "escalations": [{"after": 1.0}]})
    await desk.wait_status(job_id, "waiting_for_human")
    doomed.proc.send_signal(signal.SIGKILL)
    doomed.proc.wait()
    member = f"escalate|{job_id}|1|1"
    # what a sweeper does before it fires a timer (take_due.lua: the member is hidden for the
    # hold), done here by a "process" that then dies without firing it
    store = RedisStore(humans.redis, humans.cluster.prefix)
    await store.scripts.load(humans.redis)
    hold_s = 2.0

    async def taken() -> float | None:
        return time.time() if member in await store.take_due_timers(10, hold_s) else None

    taken_at = await wait_for(taken, 10, "the escalation to be due and taken")

    back = await asyncio.gather(humans.orchestrator(), humans.orchestrator())
    desk = Desk(http, back[0])
    (event,) = await desk.wait_event(job_id, "escalated")
    assert event["at"] >= taken_at + hold_s - 0.05  # not before the dead process's hold ran out
    await wait_for(lambda: _gone(humans, job_id), 20, "the fired timer to be dropped")
    assert [e["level"] for e in await desk.wait_event(job_id, "escalated")] == [1]
