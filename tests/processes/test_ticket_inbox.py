"""Seed 003's task lists and numbered transitions on the shipped ticket workflows, through a
real orchestrator process on real Redis: the inbox's ``search``, ``assignment_status`` and
numbered pages, ``GET /api/v1/tickets/{id}`` and ``transition_id``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.helpers import wait_for
from tests.processes.conftest import Client, Processes
from tests.processes.test_tickets import TICKET, _open, _waiting_in

INBOX = "/api/v1/human-tasks"


async def _inbox(client: Client, **query: Any) -> tuple[int, Any]:
    return await client.call("GET", f"{INBOX}?{urlencode(query)}")


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["job_id"] for item in page["items"]]


async def _tickets(client: Client, *tickets: dict[str, Any]) -> list[str]:
    """Open each ticket (``TICKET`` with these changes), in order: one due after the other."""
    return [
        await _open(client, "/api/v1/it-support-request", {**TICKET, **changes})
        for changes in tickets
    ]


async def test_search_finds_subject_description_or_assignee_in_any_case(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    client = Client(http, await processes.orchestrator())
    laptop, printer, vpn = await _tickets(
        client,
        {"subject": "Laptop not turning on", "description": "No signs of POWER"},
        {"subject": "Printer jams", "description": "Paper stuck; the power light blinks"},
        {"subject": "VPN drops", "description": "every hour"},
    )
    status, moved = await client.call(
        "POST", f"/api/v1/jobs/{vpn}/assignment", {"assignee": "Maria.Lopez"}
    )
    assert status == 200, moved

    async def found(**query: Any) -> list[str]:
        status, page = await _inbox(client, **query)
        assert status == 200, page
        return _ids(page)

    assert await found(search="LAPTOP") == [laptop]  # the subject, any case
    assert await found(search="power") == [laptop, printer]  # the description
    assert await found(search=" maria.l ") == [vpn]  # the assignee; blanks around ignored
    assert await found(search="nothing like it") == []
    # it composes with the other filters
    assert await found(search="power", role="2") == [laptop, printer]
    assert await found(search="power", role="3") == []
    assert await found(search="o", unassigned="true") == [laptop, printer]
    assert await found(search="o", assignee="Maria.Lopez") == [vpn]
    # and with the cursor: one step a page, the filter read past what it leaves out
    status, first = await _inbox(client, search="o", unassigned="true", limit=1)
    assert status == 200 and _ids(first) == [laptop], first
    status, second = await _inbox(
        client, search="o", unassigned="true", limit=1, cursor=first["next_cursor"]
    )
    assert status == 200 and _ids(second) == [printer], second
    status, long = await _inbox(client, search="x" * 257)
    assert status == 400 and long["error"]["details"]["field"] == "search", long


async def test_assignment_status_reads_new_and_in_progress_from_the_step(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    client = Client(http, await processes.orchestrator())
    first, taken, last = await _tickets(client, {}, {}, {})
    status, moved = await client.call(
        "POST", f"/api/v1/jobs/{taken}/assignment", {"assignee": "tech-3"}
    )
    assert status == 200, moved

    status, new = await _inbox(client, role="2", assignment_status="new")
    assert status == 200 and _ids(new) == [first, last], new
    status, busy = await _inbox(client, assignment_status="in progress")
    assert status == 200 and _ids(busy) == [taken], busy
    status, mine = await _inbox(client, assignee="tech-3", assignment_status="in progress")
    assert status == 200 and _ids(mine) == [taken], mine

    status, resolved = await _inbox(client, assignment_status="resolved")
    assert status == 400, resolved
    assert resolved["error"]["code"] == "VALIDATION_ERROR"
    assert resolved["error"]["details"]["field"] == "assignment_status"
    assert "status=finished" in resolved["error"]["message"]
    status, both = await _inbox(client, assignee="tech-3", assignment_status="new")
    assert status == 400 and "cannot go with" in both["error"]["message"], both
    status, both = await _inbox(client, unassigned="true", assignment_status="in progress")
    assert status == 400 and "cannot go with" in both["error"]["message"], both


async def test_numbered_pages_count_and_link_the_next_and_previous(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    client = Client(http, await processes.orchestrator())
    tickets = await _tickets(client, *({"subject": f"ticket {i}"} for i in range(5)))

    status, first = await _inbox(client, role="2", page=1, page_size=2)

    assert status == 200, first
    assert _ids(first) == tickets[:2]
    assert (first["count"], first["page"], first["page_size"], first["limit"]) == (5, 1, 2, 2)
    assert first["previous"] is None
    assert first["next"].startswith(client.url) and "page=2" in first["next"]
    async with http.get(first["next"], headers={"Authorization": "Bearer proc-client-token"}) as r:
        second = await r.json()
    assert _ids(second) == tickets[2:4] and second["count"] == 5, second
    assert "page=1" in second["previous"] and "page=3" in second["next"]
    status, last = await _inbox(client, role="2", page=3, page_size=2)
    assert status == 200 and _ids(last) == tickets[4:] and last["next"] is None, last
    # where a numbered page ended, a cursor goes on
    status, rest = await _inbox(client, role="2", limit=10, cursor=second["next_cursor"])
    assert status == 200 and _ids(rest) == tickets[4:], rest
    status, past = await _inbox(client, role="2", page=9, page_size=2)
    assert status == 200 and past["items"] == [] and past["count"] == 5, past
    # page_size alone is page 1 (default size 10); filters count too
    status, alone = await _inbox(client, page_size=3, search="TICKET 4")
    assert status == 200 and _ids(alone) == tickets[4:] and alone["count"] == 1, alone
    status, default = await _inbox(client, page=1)
    assert status == 200 and default["page_size"] == 10 and _ids(default) == tickets, default
    # the plain answer stays as it was
    status, plain = await _inbox(client, role="2")
    assert status == 200 and set(plain) == {"items", "limit", "next_cursor"}, plain

    for query, field in (
        ({"page": 1, "cursor": first["next_cursor"]}, "page"),
        ({"page": 1, "limit": 5}, "limit"),
        ({"page_size": 101}, "page_size"),
        ({"page": 0}, "page"),
    ):
        status, refused = await _inbox(client, **query)
        assert status == 400, (query, refused)
        assert refused["error"]["details"]["field"] == field, (query, refused)


async def test_transitions_are_numbered_listed_and_taken_by_number(
    processes: Processes, http: aiohttp.ClientSession
) -> None:
    client = Client(http, await processes.orchestrator())
    ticket = {"initial_data": TICKET}
    status, opened = await client.call("POST", "/api/v1/incident-review", ticket)
    assert status == 202, opened
    job_id = opened["job_id"]
    await _wait_in(client, job_id, "Triage")
    path = f"/api/v1/tickets/{job_id}/transition"

    status, view = await client.call("GET", f"/api/v1/tickets/{job_id}")

    assert status == 200, view
    assert view == {
        "task_id": job_id,
        "current_step": {"step_id": "triage", "name": "Triage"},
        "status": "in progress",
        "transitions": [
            {"transition_id": 1, "name": "Assign", "to_step": _step("resolution")},
            {"transition_id": 2, "name": "Duplicate", "to_step": _step("closed")},
        ],
    }
    status, wrong = await client.call("POST", path, {"transition_id": 5, "notes": "x"})
    assert status == 400, wrong
    assert wrong["error"]["code"] == "INVALID_TRANSITION"
    assert wrong["error"]["details"]["allowed_ids"] == [1, 2]
    assert wrong["error"]["details"]["field"] == "transition_id"
    for body in ({"notes": "x"}, {"transition": "Assign", "transition_id": 1}):
        status, refused = await client.call("POST", path, body)
        assert status == 400 and refused["error"]["code"] == "VALIDATION_ERROR", refused

    status, moved = await client.call("POST", path, {"transition_id": 1, "notes": "on it"})
    assert status == 200, moved
    assert moved["message"] == "Task transitioned to Resolution"
    assert moved["task"]["transitions"] == [
        {"transition_id": 3, "name": "Resolved", "to_step": _step("review")}
    ]
    status, moved = await client.call("POST", path, {"transition_id": 3})
    assert status == 200, moved
    # the seed's own call: {"transition_id": 5, "notes"}, Review's Approve
    status, moved = await client.call("POST", path, {"transition_id": 5, "notes": "holds"})
    assert status == 200 and moved["task"]["current_step"]["name"] == "Closed", moved
    assert moved["task"]["transitions"] == [
        {"transition_id": 6, "name": "complete", "to_step": None}
    ]
    status, done = await client.call("POST", path, {"transition_id": 6})
    assert status == 200 and done["task"]["status"] == "resolved", done
    job = await client.ended(job_id)
    assert [s["decision"] for s in job["result"]["path"]] == [
        "Assign",
        "Resolved",
        "Approve",
        "complete",
    ]
    status, view = await client.call("GET", f"/api/v1/tickets/{job_id}")
    assert status == 200 and view["status"] == "resolved" and view["transitions"] == [], view
    status, late = await client.call("POST", path, {"transition_id": 6})
    assert status == 409 and late["error"]["code"] == "NOT_WAITING_FOR_HUMAN", late
    status, missing = await client.call("GET", "/api/v1/tickets/nope")
    assert status == 404 and missing["error"]["code"] == "JOB_NOT_FOUND", missing


def _step(temp_id: str) -> dict[str, str]:
    return {"step_id": temp_id, "name": temp_id.capitalize()}


async def _wait_in(client: Client, job_id: str, step: str) -> None:
    await wait_for(lambda: _waiting_in(client, job_id, step), 20, f"{job_id} to reach {step}")
