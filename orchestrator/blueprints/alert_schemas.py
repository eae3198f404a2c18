"""JSON schemas of the alert routes' bodies, for the OpenAPI document
(``GET /_public/openapi.json``); the blueprint itself checks a new alert (``alerts.problems``)."""

from __future__ import annotations

from typing import Any

from orchestrator.blueprints.alert_settings import SEVERITIES

_TEXT_OR_OBJECT = {"type": ["string", "object"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}

NEW_ALERT: dict[str, Any] = {
    "type": "object",
    "required": ["severity", "title"],
    "properties": {
        "id": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9._:\-]{1,128}$",
            "description": "The alert's id (also taken from `Idempotency-Key`); a new UUID "
            "when absent. The same id again is the same alert.",
        },
        "severity": {"enum": list(SEVERITIES)},
        "title": {"type": "string", "minLength": 1},
        "entity": _TEXT_OR_OBJECT,
        "details": _TEXT_OR_OBJECT,
    },
}

ALERT: dict[str, Any] = {
    "type": "object",
    "required": ["alertId", "status"],
    "properties": {
        "alertId": {"type": "string"},
        "status": {
            "enum": ["OPEN", "ESCALATED", "ACKNOWLEDGED", "RESOLVED", "DISMISSED", "FAILED"]
            + ["CANCELLED"]
        },
        "severity": {"type": ["string", "null"]},
        "title": {"type": ["string", "null"]},
        "entity": {},
        "details": {},
        "createdAt": _TIME,
        "updatedAt": _TIME,
        "assignedRole": {"type": ["string", "null"], "description": "Whose it is while it waits."},
        "dueAt": _TIME,
        "decidedBy": {"type": ["string", "null"]},
        "decidedAt": _TIME,
        "notes": {"type": ["string", "null"]},
        "findings": {"type": ["array", "null"], "items": {"type": "string"}},
        "error": {"type": ["object", "null"]},
    },
}
