"""The inbox: waiting steps of three roles, listed from the indexes, filtered and paged."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.helpers import wait_for
from tests.human.conftest import Desk, Humans, other_client


async def test_inbox_of_three_roles_filtered_paged_and_counted(
    humans: Humans, http: aiohttp.ClientSession
) -> None:
    first, second = await asyncio.gather(humans.orchestrator(), humans.orchestrator())
    desk, reader = Desk(http, first), Desk(http, second)
    compliance = [
        await desk.start("alerts", {"alert_id": f"c{i}", "due_in": 3600 + i}) for i in range(5)
    ]
    fraud = [
        await desk.start("alerts", {"alert_id": f"f{i}", "role": "fraud", "assignee": "ana"})
        for i in range(3)
    ]
    late = await desk.start("alerts", {"alert_id": "late", "role": "fraud", "due_in": 0})
    ticket = await desk.start(
        "tickets", {"subject": "laptop", "priority": "High", "sla_s": 60, "specialist_role": "it"}
    )

    everything = await reader.inbox()  # another process reads what the first wrote
    ids = [t["job_id"] for t in everything["items"]]
    # by due time: the overdue one, the ticket (60 s), the compliance ones (1 h, in order),
    # then the steps with no due time, oldest first
    assert ids == [late, ticket, *compliance, *fraud]
    assert everything["next_cursor"] is None
    view = everything["items"][ids.index(ticket)]
    assert view["role"] == "agent" and view["blueprint"] == "ticket"
    assert view["title"] == "Ticket laptop"
    assert view["instructions"] == f"Triage ticket {ticket} (High)"
    assert view["summary"] == {"subject": "laptop", "priority": "High"}
    assert [d["decision"] for d in view["decisions"]] == ["assign", "close"]
    alert_view = everything["items"][ids.index(compliance[0])]
    dismiss = next(d for d in alert_view["decisions"] if d["decision"] == "dismiss")
    assert dismiss["fields"]["notes"] == {"type": "string", "required": True}
    assert (
        "notes"
        not in next(d for d in alert_view["decisions"] if d["decision"] == "acknowledge")["fields"]
    )
    assert alert_view["due_at"] is not None and alert_view["overdue"] is False
    assert alert_view["summary"] == {"alert_id": "c0"}

    assert [t["job_id"] for t in (await reader.inbox(role="fraud"))["items"]] == [late, *fraud]
    assert [t["job_id"] for t in (await reader.inbox(role="agent"))["items"]] == [ticket]
    assert [t["job_id"] for t in (await reader.inbox(assignee="ana"))["items"]] == fraud
    assert [t["job_id"] for t in (await reader.inbox(overdue=True))["items"]] == [late]
    assert [t["job_id"] for t in (await reader.inbox(blueprint="ticket"))["items"]] == [ticket]
    both = await reader.inbox(role="fraud", assignee="ana", blueprint="alert")
    assert [t["job_id"] for t in both["items"]] == fraud
    # seed 003's "unassigned" tab: the steps nobody was given, read past the assigned ones
    nobody = [t["job_id"] for t in everything["items"] if t.get("assignee") is None]
    assert nobody == [late, ticket, *compliance]
    assert [t["job_id"] for t in (await reader.inbox(unassigned=True))["items"]] == nobody
    assert [t["job_id"] for t in (await reader.inbox(role="fraud", unassigned=True))["items"]] == [
        late
    ]
    pages = await reader.every_page(2, unassigned=True)
    assert [t["job_id"] for p in pages for t in p] == nobody
    assert [t["job_id"] for t in (await reader.inbox(unassigned=False))["items"]] == ids
    query = {"unassigned": "true", "assignee": "ana"}
    async with http.get(
        f"{second.url}/api/v1/human-tasks", params=query, headers=reader.headers
    ) as r:
        refused = (await r.json())["error"]
    assert (r.status, refused["code"], refused["details"]) == (
        400,
        "VALIDATION_ERROR",
        {"field": "unassigned"},
    ), refused

    pages = await reader.every_page(3)
    assert [len(p) for p in pages] == [3, 3, 3, 1]
    assert [t["job_id"] for p in pages for t in p] == ids
    pages = await reader.every_page(2, role="compliance")
    assert [t["job_id"] for p in pages for t in p] == compliance

    # another client sees none of it
    assert (await other_client(http, second).inbox())["items"] == []

    async with http.get(f"{second.url}/api/v1/dashboard", headers=reader.headers) as r:
        counts = (await r.json())["human_tasks"]
    assert counts["waiting"] == 10 and counts["overdue"] == 1
    assert counts["by_role"] == {
        "agent": {"waiting": 1, "overdue": 0},
        "compliance": {"waiting": 5, "overdue": 0},
        "fraud": {"waiting": 4, "overdue": 1},
    }
    async with http.get(f"{second.url}/_public/metrics") as r:
        text = await r.text()
    assert 'orchestrator_human_tasks_waiting{role="fraud"} 4.0' in text
    assert 'orchestrator_human_tasks_overdue{role="fraud"} 1.0' in text

    # a decision takes the step out of every index at once
    status, body = await desk.decide(late, "acknowledge", actor="u1", actor_roles=["fraud"])
    assert status == 200, body
    assert [t["job_id"] for t in (await reader.inbox(role="fraud"))["items"]] == fraud
    assert late not in [t["job_id"] for t in (await reader.inbox())["items"]]
    async with http.get(f"{first.url}/_public/metrics") as r:  # the process that stored it
        text = await r.text()
    assert 'orchestrator_human_tasks_overdue{role="fraud"} 0.0' in text
    assert 'orchestrator_human_decision_wait_seconds_count{role="fraud"} 1.0' in text


async def test_a_step_moves_from_role_to_role_and_is_reassigned_by_hand(
    humans: Humans, http: aiohttp.ClientSession
) -> None:
    orch = await humans.orchestrator()
    desk = Desk(http, orch)
    ticket = await desk.start(
        "tickets", {"subject": "vpn", "priority": "Low", "sla_s": 600, "specialist_role": "net"}
    )
    await desk.wait_status(ticket, "waiting_for_human")
    status, body = await desk.post(
        f"/api/v1/jobs/{ticket}/assignment", {"assignee": "bob", "actor": "lead-1", "notes": "x"}
    )
    assert (status, body) == (200, {"status": "reassigned", "job_id": ticket})
    assert [t["job_id"] for t in (await desk.inbox(assignee="bob"))["items"]] == [ticket]
    (moved,) = await desk.wait_event(ticket, "reassigned")
    assert (moved["from_assignee"], moved["to_assignee"], moved["actor"]) == (None, "bob", "lead-1")

    status, body = await desk.decide(ticket, "assign", actor="bob", actor_roles=["agent"])
    assert status == 200, body
    await desk.wait_event(ticket, "human_waiting", 2)
    assert (await desk.inbox(role="agent"))["items"] == []
    assert (await desk.inbox(assignee="bob"))["items"] == []
    (step,) = (await desk.inbox(role="net"))["items"]
    assert (step["job_id"], step["state"], step["title"]) == (ticket, "resolve", "Resolve vpn")
    # a person still looking at the triage step cannot decide the resolve step by mistake
    status, body = await desk.decide(ticket, "close", actor="bob", state="triage")
    assert (status, body["error"]["code"]) == (409, "STEP_CHANGED"), body
    assert body["error"]["details"]["state"] == "resolve"

    status, body = await desk.post(
        f"/api/v1/jobs/{ticket}/escalation", {"actor": "lead-1", "reason": "customer waiting"}
    )
    assert (status, body) == (200, {"status": "escalated", "job_id": ticket, "level": 1})
    (step,) = (await desk.inbox(role="supervisor"))["items"]
    assert step["escalation_level"] == 1 and step["job_id"] == ticket
    status, body = await desk.post(f"/api/v1/jobs/{ticket}/escalation", {})
    assert status == 409 and body["error"]["code"] == "NO_ESCALATION_LEFT", body

    status, body = await desk.decide(ticket, "resolved", actor="sam", actor_roles=["supervisor"])
    assert status == 200, body
    job = await desk.wait_status(ticket, "finished")
    assert job["result"] == {"decision": "resolved", "by": "sam"}
    assert (await desk.inbox())["items"] == []
    await wait_for(lambda: _no_timers(humans, ticket), 10, "the ticket's timers to go")


async def _no_timers(humans: Humans, job_id: str) -> bool:
    return not [t for t in await humans.timers() if job_id in t]
