"""Request bodies and query strings of the human-step routes; a 400 always names the field."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from orchestrator.api.decode import Problem, decode, invalid
from orchestrator.api.queries import Query, parse
from orchestrator.api.schemas import anchored
from orchestrator.engine.human_spec import SpecError, name
from orchestrator.human.inbox import CURSOR_SCORE, decode_cursor
from orchestrator.shell.human_steps import Decision

MAX_TEXT = 10_000
MAX_ACTOR = 256

_ABOUT = Meta(description="Who acted, as the client names them.")
Actor = Annotated[str, _ABOUT, Meta(max_length=MAX_ACTOR)]
Text = Annotated[str, Meta(max_length=MAX_TEXT)]
_ROLES = Meta(description="The actor's roles; without the step's role: 403 `ROLE_MISMATCH`.")
Roles = Annotated[list[str], _ROLES]
Name = Annotated[str, Meta(pattern=anchored(r"[A-Za-z0-9_.:@+\-]{1,128}"))]
"""``human_spec.name``'s rule, as a pattern the OpenAPI document can publish."""
_STRING = {"type": "string"}
_DECISION_OF = Meta(description="One of the step's decisions.", extra_json_schema=_STRING)
_TOKEN = Meta(description="The job's `approval.token`, when not sent as `X-Approval-Token`.")
_DATA = Meta(description="Checked against the step's `fields`.")
_STATE = Meta(
    max_length=MAX_ACTOR,
    description="The step the person saw (the inbox's `state`); 409 `STEP_CHANGED` when the "
    "job now waits in another.",
)


class DecisionBody(Struct, forbid_unknown_fields=True):
    """`POST /api/v1/jobs/{job_id}/decision`."""

    # Fields in the order the hand checks this replaced went through them: a 400 names the same.
    # Any decision: one that is no string or not the step's is the step's to refuse (400
    # `INVALID_DECISION`, with the allowed ones), once the job is found.
    decision: Annotated[Any, _DECISION_OF] = None
    actor_roles: Roles | None = None
    data: Annotated[dict[str, Any], _DATA] | None = None
    actor: Actor | None = None
    notes: Text | None = None
    state: Annotated[str, _STATE] | None = None


class ApprovalBody(DecisionBody, forbid_unknown_fields=False):
    """The approval webhook's decision: keys of its own are left alone."""

    # A declared action route reads its body as this too (seed 003 sends ``transition``).
    token: Annotated[Any, _TOKEN, Meta(extra_json_schema=_STRING)] = None


class AssignmentBody(Struct, forbid_unknown_fields=True):
    """`POST /api/v1/jobs/{job_id}/assignment`: at least one of `role` and `assignee`."""

    role: Name | None = None
    assignee: Name | None = None
    actor: Actor | None = None
    notes: Text | None = None


class EscalationBody(Struct, forbid_unknown_fields=True):
    """`POST /api/v1/jobs/{job_id}/escalation`; no body is an empty one."""

    actor: Actor | None = None
    reason: Text | None = None


def _text(longest: int) -> str:
    return f"must be a string of at most {longest} characters"


def _name_problem(field: str) -> Problem:
    def problem(value: object) -> str:
        try:
            name(value, field)
        except SpecError as exc:
            return str(exc).removeprefix(f"{field} ")
        return "is invalid"

    return problem


SHARED: dict[str, Problem] = {
    "actor_roles": "must be a list of role names",
    "actor": _text(MAX_ACTOR),
    "notes": _text(MAX_TEXT),
}
"""The problems of the fields a ticket's transition shares with a decision."""
_DECISION: dict[str, Problem] = {
    **SHARED,
    "data": "must be an object",
    "state": _text(MAX_ACTOR),
}
_ASSIGNMENT: dict[str, Problem] = {
    **SHARED,
    "role": _name_problem("role"),
    "assignee": _name_problem("assignee"),
}
_ESCALATION: dict[str, Problem] = {"actor": _text(MAX_ACTOR), "reason": _text(MAX_TEXT)}
NO_TARGET = "give an assignee, a role, or both"


def decision(body: object, *, webhook: bool = False) -> Decision:
    given = decode(body, ApprovalBody if webhook else DecisionBody, _DECISION)
    return Decision(
        decision=given.decision,
        actor=given.actor,
        actor_roles=given.actor_roles,
        notes=given.notes,
        data=given.data or {},
        state=given.state,
    )


def assignment(body: object) -> tuple[str | None, str | None, str | None, str | None]:
    """(role, assignee, actor, notes)."""
    if (
        isinstance(body, dict)
        and body.keys() <= set(AssignmentBody.__struct_fields__)
        and body.get("role") is None
        and body.get("assignee") is None
    ):
        # Named before a broken actor or notes, as it always was: it is what the route is for.
        raise invalid("assignee", NO_TARGET)
    given = decode(body, AssignmentBody, _ASSIGNMENT)
    return given.role, given.assignee, given.actor, given.notes


def escalation(body: object) -> tuple[str | None, str | None]:
    """(actor, reason)."""
    given = decode({} if body is None else body, EscalationBody, _ESCALATION)
    return given.actor, given.reason


MAX_SEARCH = 256
MAX_PAGE = 10_000
AssignmentStatus = Literal["new", "in progress"]
_SEARCH = (
    "Only steps whose summary's `subject` or `description`, or whose assignee, contains this "
    "text (any case)."
)
_STATUS = (
    "Seed 003's task status: `new`, a step assigned to nobody yet (as `unassigned=true`); "
    "`in progress`, a step someone is assigned to. A resolved step has left the inbox."
)
_PAGE = (
    "A numbered page (from 1) of `page_size` steps, instead of `cursor`: the answer adds "
    "`count`, `next` and `previous`."
)
_PAGE_SIZE = "Steps in a numbered page (default 10; alone, page 1), in place of `limit`."
_CURSOR = Meta(pattern=f"^{CURSOR_SCORE.pattern}:")
"""``inbox.decode_cursor``'s rule: an integer score, ``:``, then anything."""


class InboxQuery(Struct, kw_only=True):
    """`GET /api/v1/human-tasks`; fields in the order a refusal names them."""

    overdue: Annotated[bool, Meta(description="Only steps past their due time.")] = False
    role: Annotated[Name, Meta(description="Only steps for this role.")] | None = None
    assignee: Annotated[Name, Meta(description="Only steps assigned to this person.")] | None = None
    cursor: (
        Annotated[str, _CURSOR, Meta(description="`next_cursor` of the page before.")] | None
    ) = None
    limit: Annotated[int, Meta(ge=1, le=500, description="Size")] = 50
    blueprint: Annotated[str, Meta(description="Only steps of this blueprint.")] | None = None
    unassigned: Annotated[
        bool, Meta(description="Only steps assigned to nobody (not with `assignee`).")
    ] = False
    search: Annotated[str, Meta(max_length=MAX_SEARCH, description=_SEARCH)] | None = None
    assignment_status: Annotated[AssignmentStatus, Meta(description=_STATUS)] | None = None
    page: Annotated[int, Meta(ge=1, le=MAX_PAGE, description=_PAGE)] | None = None
    page_size: Annotated[int, Meta(ge=1, le=100, description=_PAGE_SIZE)] | None = None


NEW, IN_PROGRESS = "new", "in progress"
_STATUS_PROBLEM = (
    "must be new or in progress (a resolved step has left the inbox: its ticket is in "
    "GET /api/v1/jobs?blueprint=<workflow>&status=finished)"
)
_INBOX: dict[str, Problem] = {
    "overdue": "must be true or false",
    "unassigned": "must be true or false",
    "search": f"must be at most {MAX_SEARCH} characters",
    "assignment_status": _STATUS_PROBLEM,
    "role": _name_problem("role"),
    "assignee": _name_problem("assignee"),
    "cursor": lambda raw: _cursor_problem(str(raw)),
}


def _cursor_problem(cursor: str) -> str:
    try:
        decode_cursor(cursor)
    except ValueError as exc:
        return str(exc)
    return "is invalid"


def inbox_query(query: Query) -> InboxQuery:
    given = parse(query, InboxQuery, _INBOX)
    if given.unassigned and given.assignee is not None:
        raise invalid("unassigned", "cannot go with assignee: a step has one or none")
    if given.assignment_status == NEW and given.assignee is not None:
        raise invalid("assignment_status", "new cannot go with assignee: a new step has none")
    if given.assignment_status == IN_PROGRESS and given.unassigned:
        raise invalid("assignment_status", "in progress cannot go with unassigned=true")
    numbered = "page" if given.page is not None else "page_size"
    if (given.page is not None or given.page_size is not None) and given.cursor is not None:
        raise invalid(numbered, "cannot go with cursor: a page is found by number or by cursor")
    if given.page is not None and query.get("limit"):
        raise invalid("limit", "cannot go with page: a numbered page's size is page_size")
    if given.page_size is not None and query.get("limit"):
        raise invalid("page_size", "cannot go with limit: give one page size")
    return given
