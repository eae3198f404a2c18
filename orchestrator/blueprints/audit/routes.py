"""The seed's own routes for the audit blueprints (``orchestrator/blueprint/routes.py``).

``POST /api/v1/validate-audit`` takes JSON or a form (``multipart/form-data``, whose file
parts become the job's files and the e-mail's attachments); ``POST
/api/v1/compute-audit-results`` takes JSON. Both wait for the job's outcome and answer the
seed's body, or ``{"success": false, "code", "message"}`` with the seed's status for the code.
"""

from __future__ import annotations

from typing import Any

from orchestrator.blueprint.routes import StartRoute

WAIT_S = 60.0
"""Longer than a validation takes when the SMTP server answers (the sends run in parallel,
each retried for about 1.5 s at most); past it the client gets 202 and the job's URL."""

ERRORS = {
    "MISSING_FIELDS": 400,
    "VALIDATION_ERROR": 400,
    "NOT_FOUND": 404,
    "EMAIL_SEND_ERROR": 502,
}
"""Seed 000's statuses; any other failure is 500 ``INTERNAL_ERROR``."""

USER_HEADER = "x-username"
"""Who acts, as seed 000's compute-audit-results call says (``-H 'x-username: admin'``): the
store records it with the change or the validation."""

_UUID = {"type": "string", "format": "uuid"}
_AUDIT = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["category", "question", "complies", "explanation"],
        "properties": {
            "category": {"type": "string"},
            "question": {"type": "string"},
            "complies": {"type": "boolean"},
            "explanation": {"type": "string"},
        },
    },
}
_SCORE = {
    "type": "object",
    "properties": {
        "overall": {"type": "number"},
        "categories": {"type": "object", "additionalProperties": {"type": "number"}},
        "unanswered": {"type": "integer"},
        "ignored": {"type": "integer"},
    },
}


def _ok(details: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["success", "code", "details"],
        "properties": {
            "success": {"const": True},
            "code": {"const": "OK"},
            "details": {"type": "object", "properties": details},
        },
    }


VALIDATE = StartRoute(
    "/api/v1/validate-audit",
    form={"task_uuid": "string", "notes": "string", "isCall": "boolean", "audit": "json"},
    files="files",
    actor_header=USER_HEADER,
    wait_s=WAIT_S,
    errors=ERRORS,
    summary="Validate a call or chat audit and e-mail the operator and supervisors "
    "(form file parts are attached)",
    body_schema={
        "type": "object",
        "required": ["task_uuid", "notes", "isCall"],
        "properties": {
            "task_uuid": _UUID,
            "notes": {"type": "string"},
            "isCall": {"type": "boolean"},
            "audit": _AUDIT,
        },
    },
    result_schema=_ok(
        {
            "type": {"enum": ["llamada", "chat"]},
            "task_uuid": _UUID,
            "sent_to": {"type": "array", "items": {"type": "string"}},
            "bcc": {"type": "array", "items": {"type": "string"}},
            "validated_at": {"type": "string", "format": "date-time"},
        }
    ),
)

COMPUTE = StartRoute(
    "/api/v1/compute-audit-results",
    actor_header=USER_HEADER,
    wait_s=WAIT_S,
    errors=ERRORS,
    summary="Replace an audit's answers and recompute its score against the current criteria",
    body_schema={
        "type": "object",
        "required": ["task_uuid", "file_name", "isCall", "audit"],
        "properties": {
            "task_uuid": _UUID,
            "file_name": {"type": "string"},
            "isCall": {"type": "boolean"},
            "audit": _AUDIT,
        },
    },
    result_schema=_ok(
        {
            "type": {"enum": ["llamada", "chat"]},
            "task_uuid": _UUID,
            "file_name": {"type": "string"},
            "score": _SCORE,
            "computed_at": {"type": "string", "format": "date-time"},
            "updated_by": {"type": ["string", "null"]},
        }
    ),
)
