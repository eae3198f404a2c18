"""Seed 003's tickets on the shipped "IT Support Request" workflow, moved by the seed-shaped
transition route, through real orchestrator processes on real Redis."""

from __future__ import annotations

import signal
from typing import Any

import aiohttp

from tests.helpers import wait_for
from tests.processes.conftest import DOWN_NOTIFY_WORKER, NOTIFY_WORKER, Client, Processes

TICKET = {
    "subject": "Laptop not turning on",
    "description": "My laptop shows no signs of power",
    "category": "Technology",
    "subcategory": "Hardware",
    "department": "IT",
    "priority": "High",
    "employee": {"id": 101, "name": "John Smith", "email": "john.smith@company.com"},
}

# The shipped workflow with a one-second Urgent SLA and an escalation role, registered under
# its own name (the shipped one's name belongs to the file).
DRILL = {
    "workflow": {
        "name": "IT Support Drill",
        "description": "IT Support Request with a one-second Urgent SLA",
        "high_sla": "24:00:00",
        "urgent_sla": "00:00:01",
    },
    "graph": {
        "nodes": [
            {
                "temp_id": "node_1",
                "name": "Triage",
                "role_id": 2,
                "is_start": True,
                "weight": 0.3,
                "escalate_to": "5",
            },
            {
                "temp_id": "node_2",
                "name": "Resolution",
                "role_id": 3,
                "is_end": True,
                "weight": 0.7,
            },
        ],
        "edges": [{"from_temp_id": "node_1", "to_temp_id": "node_2", "name": "Assign"}],
    },
}


async def _open(client: Client, endpoint: str, ticket: dict[str, Any]) -> str:
    status, body = await client.call("POST", endpoint, {"initial_data": ticket})
    assert status == 202, body
    job_id = str(body["job_id"])
    await wait_for(
        lambda: _waiting_in(client, job_id, "Triage"), 20, f"ticket {job_id} to reach Triage"
    )
    return job_id


async def _waiting_in(client: Client, job_id: str, step: str) -> bool:
    job = await client.job(job_id)
    return bool(job["status"] == "waiting_for_human" and job["current_state"] == step)


async def test_the_shipped_workflow_is_served_at_start_up(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    client = Client(http, await processes.orchestrator())

    status, listed = await client.call("GET", "/api/v1/blueprints")

    assert status == 200, listed
    names = {bp["name"]: bp for bp in listed}
    assert names["it-support-request"]["source"] == "file"


async def test_a_ticket_walks_triage_to_resolution_to_the_end_by_transitions(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    client = Client(http, await processes.orchestrator())
    job_id = await _open(client, "/api/v1/it-support-request", TICKET)
    path = f"/api/v1/tickets/{job_id}/transition"

    status, moved = await client.call("POST", path, {"transition": "Assign", "notes": "to desk"})

    assert status == 200, moved
    assert moved == {
        "success": True,
        "task": {
            "task_id": job_id,
            "current_step": {"step_id": "node_2", "name": "Resolution"},
            "status": "in progress",
            "transitions": [{"transition_id": 2, "name": "complete", "to_step": None}],
        },
        "message": "Task transitioned to Resolution",
    }
    status, wrong = await client.call("POST", path, {"transition": "Assign"})
    assert status == 400, wrong
    assert wrong["error"]["code"] == "INVALID_TRANSITION"
    assert wrong["error"]["details"]["allowed"] == ["complete"]

    status, done = await client.call(
        "POST", path, {"transition": "complete", "notes": "battery replaced", "actor": "tech-3"}
    )

    assert status == 200, done
    assert done["task"] == {
        "task_id": job_id,
        "current_step": {"step_id": "node_2", "name": "Resolution"},
        "status": "resolved",
        "transitions": [],
    }
    job = await client.ended(job_id)
    assert job["status"] == "finished"
    triage, resolution = job["result"]["path"]
    assert (triage["step"], triage["decision"], triage["notes"]) == ("Triage", "Assign", "to desk")
    assert (resolution["decision"], resolution["actor"]) == ("complete", "tech-3")
    status, late = await client.call("POST", path, {"transition": "complete"})
    assert status == 409 and late["error"]["code"] == "NOT_WAITING_FOR_HUMAN", late


async def test_the_transition_route_refuses_what_is_no_ticket(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    client = Client(http, await processes.orchestrator())
    status, unknown = await client.call(
        "POST", "/api/v1/tickets/nope/transition", {"transition": "x"}
    )
    assert status == 404 and unknown["error"]["code"] == "JOB_NOT_FOUND", unknown
    job_id = await _open(client, "/api/v1/it-support-request", TICKET)
    status, bad = await client.call("POST", f"/api/v1/tickets/{job_id}/transition", {"notes": "x"})
    assert status == 400 and bad["error"]["details"]["field"] == "transition", bad


async def test_a_breached_sla_escalates_and_the_ticket_keeps_waiting(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    url = await processes.orchestrator()
    processes.worker(url, NOTIFY_WORKER, "w-notify")
    client = Client(http, url)
    status, registered = await client.call("POST", "/api/v1/blueprints", DRILL)
    assert status == 201, registered
    job_id = await _open(client, "/api/v1/it-support-drill", {**TICKET, "priority": "Urgent"})

    [event] = await client.events(job_id, "escalated")

    assert (event["state"], event["from_role"], event["to_role"]) == ("Triage", "2", "5")
    assert await _waiting_in(client, job_id, "Triage")
    notices = await wait_for(processes.notices, 20, "the escalation's notice")
    assert notices == [
        {
            "text": "IT Support Drill: step 'Triage' is past its Urgent SLA: escalated to role 5",
            "variant": "warning",
            "is_global": True,
        }
    ]
    path = f"/api/v1/tickets/{job_id}/transition"
    status, moved = await client.call("POST", path, {"transition": "Assign"})
    assert status == 200 and moved["task"]["current_step"]["name"] == "Resolution", moved
    status, _ = await client.call("POST", path, {"transition": "complete"})
    assert status == 200
    job = await client.ended(job_id)
    triage = job["result"]["path"][0]
    assert (triage["sla_met"], triage["escalations"]) == (False, 1)


async def test_transferred_then_escalated_by_hand_the_notice_says_who_and_why(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    # seed 003's "Transfer Task" and "Escalate Task", on a ticket well within its SLA
    url = await processes.orchestrator()
    processes.worker(url, NOTIFY_WORKER, "w-notify")
    client = Client(http, url)
    job_id = await _open(client, "/api/v1/it-support-request", TICKET)
    transfer = {"assignee": "user-15", "actor": "admin", "notes": "Transferred to specialist"}
    status, body = await client.call("POST", f"/api/v1/jobs/{job_id}/assignment", transfer)
    assert status == 200, body
    status, mine = await client.call("GET", "/api/v1/human-tasks?assignee=user-15")
    assert [t["job_id"] for t in mine["items"]] == [job_id], mine

    reason = "Customer requires manager involvement"
    status, body = await client.call(
        "POST", f"/api/v1/jobs/{job_id}/escalation", {"actor": "user-15", "reason": reason}
    )

    assert (status, body) == (200, {"status": "escalated", "job_id": job_id, "level": 1})
    [event] = await client.events(job_id, "escalated")
    assert (event["actor"], event["reason"]) == ("user-15", reason)
    notices = await wait_for(processes.notices, 20, "the escalation's notice")
    # not the SLA breach's text: the step is not late
    assert notices == [
        {
            "text": f"Triage (job {job_id}): escalated by user-15: {reason}",
            "variant": "warning",
            "is_global": True,
        }
    ]
    assert await _waiting_in(client, job_id, "Triage")


async def test_a_failed_escalation_notice_is_listed_and_sent_again_on_retry(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    # seed 003's "Failed Notifications": list them, retry one
    url = await processes.orchestrator()
    down = processes.worker(url, DOWN_NOTIFY_WORKER, "w-notify-down")
    client = Client(http, url)
    status, registered = await client.call("POST", "/api/v1/blueprints", DRILL)
    assert status == 201, registered
    job_id = await _open(client, "/api/v1/it-support-drill", {**TICKET, "priority": "Urgent"})
    [event] = await client.events(job_id, "escalated")
    notice_id = event["notify_job_id"]
    failed = await client.ended(notice_id)
    assert (failed["status"], failed["error"]["code"]) == ("failed", "NOTIFY_DOWN"), failed
    status, listed = await client.call("GET", "/api/v1/jobs?blueprint=human_notify&status=failed")
    assert status == 200, listed
    assert [(j["job_id"], j["parent_job_id"]) for j in listed["jobs"]] == [(notice_id, job_id)]
    down.send_signal(signal.SIGTERM)  # the service is back: a working notifier takes over
    assert down.wait(20) == 0
    processes.worker(url, NOTIFY_WORKER, "w-notify")

    status, retried = await client.call("POST", f"/api/v1/jobs/{notice_id}/retry")

    assert status == 200, retried
    sent = await client.ended(notice_id)
    assert sent["status"] == "finished", sent
    notices = await wait_for(processes.notices, 20, "the notice sent on retry")
    assert [n["text"] for n in notices] == [
        "IT Support Drill: step 'Triage' is past its Urgent SLA: escalated to role 5"
    ]
    assert await _waiting_in(client, job_id, "Triage")
