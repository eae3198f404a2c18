"""The OpenAPI operations and schemas of human steps (``api/human.py``, ``human_events.py``)
and the approval webhook's body, which takes the same optional ``actor``/``notes``/``data``."""

from __future__ import annotations

from typing import Any

from orchestrator.api.answers.human import STREAM_ID
from orchestrator.api.human_bodies import (
    ApprovalBody,
    AssignmentBody,
    DecisionBody,
    EscalationBody,
)
from orchestrator.api.human_events import DEFAULT_WAIT_S, MAX_WAIT_S
from orchestrator.api.openapi.operations import (
    CLIENTS,
    JOB_ID,
    Paths,
    body,
    header,
    json_body,
    operation,
    query,
)
from orchestrator.api.openapi.schemas import Schema, generated, ref

_STREAM_ID = {"type": "string", "pattern": STREAM_ID}
_NAME = {"type": "string", "pattern": r"^[A-Za-z0-9_.:@+\-]{1,128}$"}


def _bodies() -> dict[str, Schema]:
    """The request bodies, from the Structs the server decodes them with, and what a Struct
    cannot say: a decision is required (the step refuses a missing one, 400
    `INVALID_DECISION`), and an assignment names a role or an assignee."""
    bodies = generated(DecisionBody, ApprovalBody, AssignmentBody, EscalationBody)
    for name in ("Decision", "Approval"):
        bodies[name]["required"] = ["decision"]
        for field in ("decision", "token"):  # a string when given: no null default
            bodies[name]["properties"].get(field, {}).pop("default", None)
    bodies["Assignment"]["anyOf"] = [  # a null one names nobody
        {"required": [field], "properties": {field: {"type": "string"}}}
        for field in ("role", "assignee")
    ]
    return bodies


SCHEMAS: dict[str, Schema] = _bodies()


def _job_op(op_id: str, summary: str, answer: str, schema: str, description: str) -> Any:
    return {
        "post": operation(
            CLIENTS,
            op_id,
            summary,
            {200: json_body(ref(answer), "Done.")},
            (400, 403, 404, 409, 429, 503),
            params=(JOB_ID,),
            body=body(schema, required=schema != "Escalation"),
            description=description,
        )
    }


def human_paths() -> Paths:
    return {
        "/api/v1/jobs/{job_id}/decision": _job_op(
            "decide",
            "Decide a waiting human step for one of the client's people",
            "DecisionRecorded",
            "Decision",
            "400 `INVALID_DECISION` lists the allowed decisions, `VALIDATION_ERROR` names the "
            "field; 403 `ROLE_MISMATCH`; 404 also for another client's job; 409 "
            "`NOT_WAITING_FOR_HUMAN` (details: `status`, `state`, `decision` with who and "
            "when), `STEP_CHANGED` or `BLUEPRINT_CHANGED`.",
        ),
        "/api/v1/jobs/{job_id}/assignment": _job_op(
            "reassign",
            "Move a waiting human step to another role and/or person",
            "Reassigned",
            "Assignment",
            "409 `NOT_WAITING_FOR_HUMAN` when the job waits for no person.",
        ),
        "/api/v1/jobs/{job_id}/escalation": _job_op(
            "escalate",
            "Go to the step's next escalation level now",
            "Escalated",
            "Escalation",
            "409 `NO_ESCALATION_LEFT` or `NOT_WAITING_FOR_HUMAN`.",
        ),
        "/api/v1/human-tasks": {
            "get": operation(
                CLIENTS,
                "human_tasks",
                "The client's waiting human steps, by due time then age",
                {200: json_body(ref("HumanTaskPage"), "One page; follow `next_cursor`.")},
                (400, 503),
                params=(
                    query("role", _NAME, "Only steps for this role."),
                    query("assignee", _NAME, "Only steps assigned to this person."),
                    query("blueprint", {"type": "string"}, "Only steps of this blueprint."),
                    query("overdue", {"type": "boolean"}, "Only steps past their due time."),
                    query(
                        "cursor",
                        {"type": "string", "pattern": r"^-?\d{1,16}:"},
                        "`next_cursor` of the page before.",
                    ),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "Size"),
                ),
            )
        },
        "/api/v1/human-tasks/events": {
            "get": operation(
                CLIENTS,
                "human_task_events",
                "The client's inbox changes as Server-Sent Events",
                {
                    200: {
                        "description": "`added`, `updated`, `removed` (and `reset` when the "
                        "resume point is gone): `id` is the stream entry id.",
                        "content": {"text/event-stream": {"schema": ref("InboxEvent")}},
                    }
                },
                (400, 503),
                params=(
                    query("role", _NAME, "Only changes of steps for (or leaving) this role."),
                    query(
                        "wait",
                        {"type": "number", "minimum": 0},
                        f"Seconds the stream stays open (default {DEFAULT_WAIT_S:g}, at most "
                        f"{MAX_WAIT_S:g}; 0: what is there, then the end). Reconnect with "
                        "`Last-Event-ID`.",
                    ),
                    header("Last-Event-ID", _STREAM_ID, "Resume after this event id."),
                    query("last_event_id", _STREAM_ID, "As `Last-Event-ID`."),
                ),
            )
        },
    }
