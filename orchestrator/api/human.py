"""/api: human steps of the calling client's jobs: decide, reassign, escalate, the inbox."""

from __future__ import annotations

from aiohttp import web

from orchestrator.api import human_bodies
from orchestrator.api.answers.human import Escalated, Reassigned
from orchestrator.api.middleware import CLIENT, read_json
from orchestrator.api.render import json_response, typed_response
from orchestrator.appkeys import RUNNER, STORE
from orchestrator.human import inbox
from orchestrator.shell import human_steps

routes = web.RouteTableDef()


@routes.post("/api/v1/jobs/{job_id}/decision")
async def decision(request: web.Request) -> web.Response:
    """The owning client decides for one of its people (``actor``), with their roles."""
    body = human_bodies.decision(await read_json(request))
    job_id = request.match_info["job_id"]
    await human_steps.decide(request.app[RUNNER], job_id, body, client=request[CLIENT], token=None)
    # The decision was checked against the step's (a string) but is typed as given: a dict.
    return json_response(
        {"status": "decision_recorded", "job_id": job_id, "decision": body.decision}
    )


@routes.post("/api/v1/jobs/{job_id}/assignment")
async def assignment(request: web.Request) -> web.Response:
    role, assignee, actor, notes = human_bodies.assignment(await read_json(request))
    job_id = request.match_info["job_id"]
    await human_steps.reassign(
        request.app[RUNNER],
        job_id,
        request[CLIENT],
        role=role,
        assignee=assignee,
        actor=actor,
        notes=notes,
    )
    return typed_response(Reassigned("reassigned", job_id))


@routes.post("/api/v1/jobs/{job_id}/escalation")
async def escalation(request: web.Request) -> web.Response:
    actor, reason = human_bodies.escalation(await read_json(request, required=False))
    job_id = request.match_info["job_id"]
    level = await human_steps.escalate_now(
        request.app[RUNNER], job_id, request[CLIENT], actor=actor, reason=reason
    )
    return typed_response(Escalated("escalated", job_id, level))


@routes.get("/api/v1/human-tasks")
async def human_tasks(request: web.Request) -> web.Response:
    """Waiting human steps of this client's jobs, by due time then age, from the indexes."""
    query = human_bodies.inbox_query(request.query)
    status = query.assignment_status
    search = query.search.strip().casefold() if query.search else None
    filters = inbox.Filters(
        query.role,
        query.assignee,
        query.blueprint,
        query.overdue,
        unassigned=query.unassigned or status == human_bodies.NEW,
        assigned=status == human_bodies.IN_PROGRESS,
        search=search or None,
    )
    store, client = request.app[STORE], request[CLIENT]
    if query.page is None and query.page_size is None:
        items, next_cursor = await inbox.page(store, client, filters, query.limit, query.cursor)
        return json_response({"items": items, "limit": query.limit, "next_cursor": next_cursor})
    number, size = query.page or 1, query.page_size or DEFAULT_PAGE_SIZE
    found = await inbox.numbered(store, client, filters, number, size)
    return json_response(
        {
            "items": found.items,
            "limit": size,
            "next_cursor": found.cursor,
            "count": found.count,
            "page": number,
            "page_size": size,
            "next": _page_url(request, number + 1) if found.more else None,
            "previous": _page_url(request, number - 1) if number > 1 else None,
        }
    )


DEFAULT_PAGE_SIZE = 10
"""Seed 003's page size."""


def _page_url(request: web.Request, number: int) -> str:
    """This request's URL with ``page`` set: the seed's ``next``/``previous``."""
    return str(request.url.update_query(page=str(number)))
