"""The answers of the human-step routes (``api/human.py``, ``human_events.py``, ``tickets.py``);
the inbox's items are built by ``orchestrator/human/view.py``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, UnsetType

from orchestrator.api.answers import Answer, Time

STREAM_ID = r"^\d{1,20}-\d{1,20}$"
"""A Redis stream entry id: the inbox stream's event ids."""


class DecisionChoice(Answer):
    decision: str | UnsetType = UNSET
    fields: dict[str, Any] | UnsetType = UNSET


class HumanTask(Answer):
    job_id: str
    blueprint: str
    state: str
    decisions: list[DecisionChoice]
    created_at: Time
    title: str | None | UnsetType = UNSET
    instructions: str | None | UnsetType = UNSET
    role: str | None | UnsetType = UNSET
    assignee: str | None | UnsetType = UNSET
    due_at: Time | None | UnsetType = UNSET
    overdue: bool | UnsetType = UNSET
    escalation_level: int | UnsetType = UNSET
    escalation_levels: int | UnsetType = UNSET
    summary: dict[str, Any] | None | UnsetType = UNSET


_NUMBERED = "With `page` or `page_size` only: "


class HumanTaskPage(Answer):
    items: list[HumanTask]
    limit: int
    next_cursor: Annotated[
        str | None, Meta(description="Where the next page starts; null when none follows.")
    ]
    count: (
        Annotated[
            int | None,
            Meta(
                description=_NUMBERED + "how many steps match in all (null past the first "
                "10,000 entries read: page by cursor there)."
            ),
        ]
        | UnsetType
    ) = UNSET
    page: Annotated[int, Meta(description=_NUMBERED + "this page's number.")] | UnsetType = UNSET
    page_size: Annotated[int, Meta(description=_NUMBERED + "its size.")] | UnsetType = UNSET
    next: (
        Annotated[
            str | None, Meta(description=_NUMBERED + "the next page's URL; null on the last.")
        ]
        | UnsetType
    ) = UNSET
    previous: (
        Annotated[
            str | None, Meta(description=_NUMBERED + "the page before's URL; null on the first.")
        ]
        | UnsetType
    ) = UNSET


class InboxEvent(Answer):
    """One Server-Sent Event of the inbox stream."""

    id: Annotated[str, Meta(pattern=STREAM_ID)]
    event: Literal["added", "updated", "removed", "reset"]
    data: Annotated[
        str,
        Meta(
            extra_json_schema={
                "contentMediaType": "application/json",
                "contentSchema": {"type": "object"},
            }
        ),
    ]


class DecisionRecorded(Answer):
    status: Literal["decision_recorded"]
    job_id: str
    decision: str


class Reassigned(Answer):
    status: Literal["reassigned"]
    job_id: str


class Escalated(Answer):
    status: Literal["escalated"]
    job_id: str
    level: int


class TicketStep(Answer):
    step_id: Annotated[str, Meta(description="The node's `temp_id` in the workflow.")]
    name: Annotated[str, Meta(description="The step (node) name.")]


class TicketMove(Answer):
    transition_id: Annotated[
        int, Meta(description="The number `transition_id` names it by (stable per workflow).")
    ]
    name: Annotated[str, Meta(description="The edge's name (`transition`).")]
    to_step: Annotated[
        TicketStep | None, Meta(description="Where it goes; null for `complete` (closed).")
    ]


class Ticket(Answer):
    task_id: str
    current_step: TicketStep
    status: Annotated[
        str,
        Meta(description="`in progress` while it waits in a step, `resolved` once closed."),
    ]
    transitions: Annotated[
        list[TicketMove],
        Meta(description="The transitions out of the current step (none once closed)."),
    ]


class TicketTransitioned(Answer):
    success: Literal[True]
    task: Ticket
    message: str


HUMAN_ANSWERS = (HumanTaskPage, InboxEvent, DecisionRecorded, Reassigned, Escalated)
TICKET_ANSWERS = (TicketTransitioned, Ticket)
