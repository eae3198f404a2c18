"""``POST /api/v1/tickets/{id}/transition``: seed 003's "execute transition" on a ticket.

A ticket is a job of any seed-003 workflow blueprint (``orchestrator/workflows/``); the
transition is the name of an edge out of the step the ticket waits in (an end step's one
transition is ``complete``), and it is taken as that step's decision, with the same checks
as ``POST /api/v1/jobs/{id}/decision``. The answer is the seed's::

    {"success": true, "task": {"task_id": "<job id>",
      "current_step": {"step_id": "node_2", "name": "Resolution"}, "status": "in progress"},
     "message": "Task transitioned to Resolution"}

This is a route of its own rather than a blueprint's declared action route because it serves
the tickets of every workflow, shipped or registered, at one path.
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from msgspec import Meta, Struct

from orchestrator.api import human_bodies
from orchestrator.api.answers.human import Ticket, TicketStep, TicketTransitioned
from orchestrator.api.decode import Problem, decode
from orchestrator.api.middleware import CLIENT, read_json
from orchestrator.api.render import typed_response
from orchestrator.appkeys import RUNNER
from orchestrator.engine.model import Job, JobStatus
from orchestrator.errors import BadRequest, NotFound
from orchestrator.shell import human_steps
from orchestrator.shell.jobs import JobRunner
from orchestrator.workflows.build import compiled_of
from orchestrator.workflows.compile import Compiled

routes = web.RouteTableDef()

IN_PROGRESS, RESOLVED = "in progress", "resolved"
"""The seed's task statuses: waiting in a step, and closed."""


_EDGE = "An edge out of the current step; `complete` at an end step."


class TicketTransitionBody(Struct, forbid_unknown_fields=True):
    """`POST /api/v1/tickets/{job_id}/transition`."""

    # The transition, then the fields it shares with a decision, in the order checked.
    transition: Annotated[str, Meta(min_length=1, description=_EDGE)]
    actor_roles: human_bodies.Roles | None = None
    actor: human_bodies.Actor | None = None
    notes: human_bodies.Text | None = None


_PROBLEMS: dict[str, Problem] = {
    **human_bodies.SHARED,
    "transition": "required, the name of an edge out of the ticket's current step",
}


def transition_body(raw: object) -> human_steps.Decision:
    body = decode(raw, TicketTransitionBody, _PROBLEMS)
    return human_steps.Decision(
        decision=body.transition,
        actor=body.actor,
        actor_roles=body.actor_roles,
        notes=body.notes,
    )


async def _ticket(runner: JobRunner, job_id: str, client: str) -> tuple[Job, Compiled | None]:
    job = await runner.get(job_id, client)
    bp = runner.blueprint_of(job)
    compiled = compiled_of(bp) if bp is not None else None
    if bp is not None and compiled is None:
        raise NotFound(
            f"job {job_id} is not a ticket: its blueprint {job.blueprint!r} is no workflow",
            code="TICKET_NOT_FOUND",
        )
    return job, compiled


def _step(name: str, compiled: Compiled | None) -> TicketStep:
    temp_ids = {step: temp_id for temp_id, step in (compiled.steps if compiled else {}).items()}
    return TicketStep(temp_ids.get(name, name), name)


@routes.post("/api/v1/tickets/{job_id}/transition")
async def transition(request: web.Request) -> web.Response:
    body = transition_body(await read_json(request))
    runner, client = request.app[RUNNER], request[CLIENT]
    ticket_id = request.match_info["job_id"]
    before, compiled = await _ticket(runner, ticket_id, client)
    try:
        await human_steps.decide(runner, ticket_id, body, client=client, token=None)
    except BadRequest as exc:
        if exc.code != "INVALID_DECISION":
            raise
        # the same refusal, in this route's words: the field is ``transition``
        allowed = exc.details.get("allowed", [])
        raise BadRequest(
            f"transition must be one of: {', '.join(allowed)} (from step {before.state!r})",
            code="INVALID_TRANSITION",
            details={"allowed": allowed, "field": "transition", "step": before.state},
        ) from None
    after = await runner.get(ticket_id, client)
    if after.status == JobStatus.WAITING_FOR_HUMAN:
        step, status = after.state, IN_PROGRESS
        message = f"Task transitioned to {step}"
    elif after.status == JobStatus.FINISHED:
        step, status = before.state, RESOLVED
        message = f"Task resolved at {step}"
    else:  # ended otherwise, or moved on by someone else since: say what it is now
        step, status = after.state, after.status.value
        message = f"Task is {status} in {step}"
    return typed_response(
        TicketTransitioned(True, Ticket(ticket_id, _step(step, compiled), status), message)
    )
