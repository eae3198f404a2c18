"""Deciding: who and why reach the next handler; refusals; two decisions at once."""

from __future__ import annotations

import asyncio
import signal

import aiohttp

from orchestrator.views import iso
from tests.human.conftest import Desk, Humans, other_client


async def test_a_decision_with_actor_and_notes_reaches_the_next_handler(
    humans: Humans, http: aiohttp.ClientSession
) -> None:
    orch = await humans.orchestrator()
    desk = Desk(http, orch)
    job_id = await desk.start("alerts", {"alert_id": "a-17"})
    await desk.wait_status(job_id, "waiting_for_human")

    status, body = await desk.decide(
        job_id,
        "acknowledge",
        actor="user-17",
        actor_roles=["compliance", "audit"],
        notes="looked at it",
        data={"severity": "high"},
    )
    assert (status, body) == (
        200,
        {"status": "decision_recorded", "job_id": job_id, "decision": "acknowledge"},
    )
    job = await desk.wait_status(job_id, "finished")
    assert job["result"] == {
        "decision": "acknowledge",
        "decided_by": "user-17",
        "notes": "looked at it",
        "data": {"severity": "high"},
    }
    (event,) = await desk.wait_event(job_id, "human_decided")
    assert (event["actor"], event["notes"], event["data"]) == (
        "user-17",
        "looked at it",
        {"severity": "high"},
    )
    assert event["actor_roles"] == ["compliance", "audit"] and event["role"] == "compliance"
    assert event["via"] == "api" and event["waited_s"] >= 0

    status, body = await desk.decide(job_id, "dismiss", actor="user-18", notes="late")
    assert status == 409 and body["error"]["code"] == "NOT_WAITING_FOR_HUMAN", body
    details = body["error"]["details"]
    assert (details["status"], details["state"]) == ("finished", "investigate")
    assert details["decision"]["decision"] == "acknowledge"
    assert details["decision"]["actor"] == "user-17"
    # as every time the API writes: ISO 8601, the history's time of the decision
    assert details["decision"]["at"] == iso(event["at"]), details


async def test_refusals_change_nothing(humans: Humans, http: aiohttp.ClientSession) -> None:
    orch = await humans.orchestrator()
    desk = Desk(http, orch)
    job_id = await desk.start("alerts", {"alert_id": "a-18"})
    await desk.wait_status(job_id, "waiting_for_human")

    status, body = await desk.decide(job_id, "acknowledge", actor="u", actor_roles=["fraud"])
    assert (status, body["error"]["code"]) == (403, "ROLE_MISMATCH"), body
    assert body["error"]["details"] == {"role": "compliance", "actor_roles": ["fraud"]}
    status, body = await desk.decide(job_id, "escalate")
    assert (status, body["error"]["code"]) == (400, "INVALID_DECISION"), body
    assert body["error"]["details"]["allowed"] == ["acknowledge", "dismiss"]
    status, body = await desk.decide(job_id, "dismiss", actor="u")  # notes required
    assert (status, body["error"]["code"]) == (400, "VALIDATION_ERROR"), body
    assert body["error"]["details"]["field"] == "notes"
    status, body = await desk.decide(job_id, "acknowledge", data={"severity": "huge"})
    assert (status, body["error"]["details"]["field"]) == (400, "data.severity"), body
    status, body = await desk.decide(job_id, "acknowledge", colour="red")
    assert (status, body["error"]["details"]["field"]) == (400, "colour"), body
    status, body = await other_client(http, orch).decide(job_id, "acknowledge")
    assert (status, body["error"]["code"]) == (404, "JOB_NOT_FOUND"), body
    assert [e["type"] for e in await desk.history(job_id)][-1] == "human_waiting"
    assert (await desk.job(job_id))["status"] == "waiting_for_human"

    # without actor_roles the client system vouches for its person: no role check
    status, body = await desk.decide(job_id, "dismiss", actor="u", notes="false positive")
    assert status == 200, body
    assert (await desk.wait_status(job_id, "finished"))["result"] == {
        "decision": "dismiss",
        "decided_by": "u",
        "notes": "false positive",
    }


async def test_two_decisions_at_once_on_two_processes_one_wins(
    humans: Humans, http: aiohttp.ClientSession
) -> None:
    first, second = await asyncio.gather(humans.orchestrator(), humans.orchestrator())
    desks = [Desk(http, first), Desk(http, second)]
    for round_ in range(5):  # several rounds: the race must hold every time, whoever wins
        job_id = await desks[0].start("alerts", {"alert_id": f"r{round_}"})
        await desks[0].wait_status(job_id, "waiting_for_human")
        answers = await asyncio.gather(
            desks[0].decide(job_id, "acknowledge", actor="ana"),
            desks[1].decide(job_id, "dismiss", actor="ben", notes="dup"),
        )
        assert sorted(status for status, _ in answers) == [200, 409], answers
        winner = "ana" if answers[0][0] == 200 else "ben"
        (_, refused) = next(a for a in answers if a[0] == 409)
        assert refused["error"]["code"] == "NOT_WAITING_FOR_HUMAN"
        assert refused["error"]["details"]["decision"]["actor"] == winner
        assert winner in refused["error"]["message"]
        job = await desks[1].wait_status(job_id, "finished")
        assert job["result"]["decided_by"] == winner
        decided = await desks[0].wait_event(job_id, "human_decided")
        assert [e["actor"] for e in decided] == [winner]


async def test_the_approval_webhook_takes_actor_notes_and_data(
    humans: Humans, http: aiohttp.ClientSession
) -> None:
    orch = await humans.orchestrator()
    desk = Desk(http, orch)
    job_id = await desk.start("alerts", {"alert_id": "w-1"})
    token = (await desk.wait_status(job_id, "waiting_for_human"))["approval"]["token"]
    async with http.post(
        f"{orch.url}/_public/webhooks/approval/{job_id}",
        json={"decision": "dismiss", "actor": "mail-bot"},
        headers={"X-Approval-Token": token},
    ) as r:
        body = await r.json()
        assert r.status == 400 and body["error"]["details"]["field"] == "notes", body
    async with http.post(
        f"{orch.url}/_public/webhooks/approval/{job_id}",
        json={"decision": "dismiss", "actor": "mail-bot", "notes": "spam", "token": token},
    ) as r:
        assert r.status == 200, await r.text()
    job = await desk.wait_status(job_id, "finished")
    assert job["result"] == {"decision": "dismiss", "decided_by": "mail-bot", "notes": "spam"}
    (event,) = await desk.wait_event(job_id, "human_decided")
    assert event["via"] == "webhook"


async def test_a_job_whose_blueprint_changed_refuses_the_decision_with_409(
    humans: Humans, http: aiohttp.ClientSession
) -> None:
    old = await humans.orchestrator()
    desk = Desk(http, old)
    job_id = await desk.start("alerts", {"alert_id": "v1"})
    token = (await desk.wait_status(job_id, "waiting_for_human"))["approval"]["token"]
    old.proc.send_signal(signal.SIGKILL)
    old.proc.wait()
    new = await humans.orchestrator("tests.human.alert_v2")
    desk = Desk(http, new)

    status, body = await desk.decide(job_id, "acknowledge", actor="ana")
    assert (status, body["error"]["code"]) == (409, "BLUEPRINT_CHANGED"), body
    async with http.post(
        f"{new.url}/_public/webhooks/approval/{job_id}",
        json={"decision": "acknowledge", "actor": "ana"},
        headers={"X-Approval-Token": token},
    ) as r:
        body = await r.json()
        assert (r.status, body["error"]["code"]) == (409, "BLUEPRINT_CHANGED"), body
    assert "still waits" in body["error"]["message"]
    job = await desk.job(job_id)
    assert job["status"] == "waiting_for_human"  # nothing was recorded: a redeploy can decide
    assert [e["type"] for e in await desk.history(job_id)][-1] == "human_waiting"
