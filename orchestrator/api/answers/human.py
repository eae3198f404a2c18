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


class HumanTaskPage(Answer):
    items: list[HumanTask]
    limit: int
    next_cursor: str | None


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


class Ticket(Answer):
    task_id: str
    current_step: TicketStep
    status: Annotated[
        str,
        Meta(description="`in progress` while it waits in a step, `resolved` once closed."),
    ]


class TicketTransitioned(Answer):
    success: Literal[True]
    task: Ticket
    message: str


HUMAN_ANSWERS = (HumanTaskPage, InboxEvent, DecisionRecorded, Reassigned, Escalated)
TICKET_ANSWERS = (TicketTransitioned,)
