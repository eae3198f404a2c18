"""The OpenAPI operation and schemas of seed 003's ticket transition (``api/tickets.py``)."""

from __future__ import annotations

from orchestrator.api.openapi.operations import (
    CLIENTS,
    JOB_ID,
    Paths,
    body,
    json_body,
    operation,
)
from orchestrator.api.openapi.schemas import Schema, generated, ref
from orchestrator.api.tickets import TicketTransitionBody

SCHEMAS: dict[str, Schema] = generated(TicketTransitionBody)


def ticket_paths() -> Paths:
    return {
        "/api/v1/tickets/{job_id}/transition": {
            "post": operation(
                CLIENTS,
                "ticket_transition",
                "Move a ticket along an edge out of its current step (seed 003)",
                {200: json_body(ref("TicketTransitioned"), "Moved; where it is now.")},
                (400, 403, 404, 409, 429, 503),
                params=(JOB_ID,),
                body=body("TicketTransition"),
                description="400 `INVALID_TRANSITION` lists the edges out of the step, "
                "`VALIDATION_ERROR` names the field; 403 `ROLE_MISMATCH`; 404 `JOB_NOT_FOUND`, "
                "or `TICKET_NOT_FOUND` for a job of no workflow; 409 `NOT_WAITING_FOR_HUMAN` "
                "(closed, or decided meanwhile).",
            )
        }
    }
