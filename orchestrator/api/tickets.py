"""``POST /api/v1/tickets/{id}/transition``: seed 003's "execute transition" on a ticket, and
``GET /api/v1/tickets/{id}``, the ticket with the transitions it may take.

A ticket is a job of any seed-003 workflow blueprint (``orchestrator/workflows/``); the
transition is an edge out of the step the ticket waits in (an end step's one transition is
``complete``), named (``transition``) or numbered as the seed's ``transition_id``
(``compile.transitions``), and it is taken as that step's decision, with the same checks as
``POST /api/v1/jobs/{id}/decision``. The answer is the seed's, plus the transitions now open::

    {"success": true, "task": {"task_id": "<job id>",
      "current_step": {"step_id": "node_2", "name": "Resolution"}, "status": "in progress",
      "transitions": [{"transition_id": 2, "name": "complete", "to_step": null}]},
     "message": "Task transitioned to Resolution"}

This is a route of its own rather than a blueprint's declared action route because it serves
the tickets of every workflow, shipped or registered, at one path.
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from msgspec import Meta, Struct

from orchestrator.api import human_bodies
from orchestrator.api.answers.human import Ticket, TicketMove, TicketStep, TicketTransitioned
from orchestrator.api.decode import Problem, decode, invalid
from orchestrator.api.middleware import CLIENT, read_json
from orchestrator.api.render import typed_response
from orchestrator.appkeys import RUNNER
from orchestrator.engine.model import Job, JobStatus
from orchestrator.errors import BadRequest, NotFound
from orchestrator.shell import human_steps
from orchestrator.shell.human_steps import Decision
from orchestrator.shell.jobs import JobRunner
from orchestrator.workflows.build import compiled_of
from orchestrator.workflows.compile import Compiled

routes = web.RouteTableDef()

IN_PROGRESS, RESOLVED = "in progress", "resolved"
"""The seed's task statuses: waiting in a step, and closed."""


_EDGE = "An edge out of the current step by name; `complete` at an end step."
_NUMBER = "The transition by number, in place of `transition` (the ticket's `transitions`)."


class TicketTransitionBody(Struct, forbid_unknown_fields=True):
    """`POST /api/v1/tickets/{job_id}/transition`: `transition` or `transition_id`."""

    # The transition, then the fields it shares with a decision, in the order checked.
    transition: Annotated[str, Meta(min_length=1, description=_EDGE)] | None = None
    # a float that is a multiple of 1: JSON's integers, ``5.0`` included (``_integers``)
    transition_id: Annotated[float, Meta(ge=1, multiple_of=1, description=_NUMBER)] | None = None
    actor_roles: human_bodies.Roles | None = None
    actor: human_bodies.Actor | None = None
    notes: human_bodies.Text | None = None


_PROBLEMS: dict[str, Problem] = {
    **human_bodies.SHARED,
    "transition": "must be the name of an edge out of the ticket's current step",
    "transition_id": "must be an integer from 1, the number of a transition out of the step",
}
_ONE = "give transition (an edge's name) or transition_id (its number)"


def transition_body(raw: object) -> TicketTransitionBody:
    body = decode(raw, TicketTransitionBody, _PROBLEMS)
    if body.transition is None and body.transition_id is None:
        raise invalid("transition", _ONE)
    if body.transition is not None and body.transition_id is not None:
        raise invalid("transition_id", f"cannot go with transition: {_ONE}")
    return body


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


def _moves(job: Job, compiled: Compiled | None) -> list[TicketMove]:
    """The numbered transitions out of the step ``job`` waits in (none when it waits in none)."""
    if job.status != JobStatus.WAITING_FOR_HUMAN or compiled is None:
        return []
    return [
        TicketMove(
            move.id,
            move.name,
            None if move.to == compiled.closed else _step(move.to, compiled),
        )
        for move in compiled.transitions.get(job.state, ())
    ]


def _view(job: Job, compiled: Compiled | None) -> Ticket:
    if job.status == JobStatus.WAITING_FOR_HUMAN:
        status = IN_PROGRESS
    elif job.status == JobStatus.FINISHED:
        status = RESOLVED
    else:
        status = job.status.value
    return Ticket(job.id, _step(job.state, compiled), status, _moves(job, compiled))


def _decision(body: TicketTransitionBody, before: Job, compiled: Compiled | None) -> Decision:
    """The decision ``body`` names; a number is read against the step the ticket waits in,
    and the decision says that step, so a ticket moved on meanwhile is refused (409
    ``STEP_CHANGED``), not moved along a same-named edge of its new step."""
    if body.transition_id is None:
        return Decision(body.transition, body.actor, body.actor_roles, body.notes)
    moves = _moves(before, compiled)
    named = next((m.name for m in moves if m.transition_id == int(body.transition_id)), None)
    if named is None and before.status == JobStatus.WAITING_FOR_HUMAN:
        allowed = [f"{m.transition_id} ({m.name})" for m in moves]
        raise BadRequest(
            f"transition_id must be one of: {', '.join(allowed) or 'none known'} "
            f"(from step {before.state!r})",
            code="INVALID_TRANSITION",
            details={
                "allowed_ids": [m.transition_id for m in moves],
                "allowed": [m.name for m in moves],
                "field": "transition_id",
                "step": before.state,
            },
        )
    # not waiting: the decision's own check answers 409 NOT_WAITING_FOR_HUMAN
    return Decision(named, body.actor, body.actor_roles, body.notes, state=before.state)


@routes.get("/api/v1/tickets/{job_id}")
async def ticket(request: web.Request) -> web.Response:
    """The ticket: the step it waits in and the numbered transitions out of it."""
    job, compiled = await _ticket(
        request.app[RUNNER], request.match_info["job_id"], request[CLIENT]
    )
    return typed_response(_view(job, compiled))


@routes.post("/api/v1/tickets/{job_id}/transition")
async def transition(request: web.Request) -> web.Response:
    body = transition_body(await read_json(request))
    runner, client = request.app[RUNNER], request[CLIENT]
    ticket_id = request.match_info["job_id"]
    before, compiled = await _ticket(runner, ticket_id, client)
    field = "transition" if body.transition_id is None else "transition_id"
    try:
        await human_steps.decide(
            runner, ticket_id, _decision(body, before, compiled), client=client, token=None
        )
    except BadRequest as exc:
        if exc.code != "INVALID_DECISION":
            raise
        # the same refusal, in this route's words: the field is ``transition``
        allowed = exc.details.get("allowed", [])
        raise BadRequest(
            f"transition must be one of: {', '.join(allowed)} (from step {before.state!r})",
            code="INVALID_TRANSITION",
            details={"allowed": allowed, "field": field, "step": before.state},
        ) from None
    after = await runner.get(ticket_id, client)
    view = _view(after, compiled)
    if after.status == JobStatus.WAITING_FOR_HUMAN:
        message = f"Task transitioned to {after.state}"
    elif after.status == JobStatus.FINISHED:
        view = Ticket(ticket_id, _step(before.state, compiled), RESOLVED, [])
        message = f"Task resolved at {before.state}"
    else:  # ended otherwise, or moved on by someone else since: say what it is now
        message = f"Task is {view.status} in {after.state}"
    return typed_response(TicketTransitioned(True, view, message))
