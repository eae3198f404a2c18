"""The JSON Schemas of the bodies run-time blueprint registration takes (``registration.py``):
a YAML blueprint document or a seed-003 workflow. They are checked by ``orchestrator.intake``,
which reports every problem at once, not by a Struct."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_STRING = {"type": "string"}
_ROLE = {"anyOf": [{"type": "integer"}, {"type": "string"}]}

WORKFLOW: Schema = {
    "type": "object",
    "required": ["workflow", "graph"],
    "description": "Seed 003's workflow, with its own field names (`docs/workflows.md`).",
    "properties": {
        "workflow": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": _STRING,
                **{k: _STRING for k in ("description", "category", "sub_category", "department")},
                **{
                    f"{p}_sla": {"type": "string", "pattern": r"^\d{1,6}:[0-5]\d:[0-5]\d$"}
                    for p in ("low", "medium", "high", "urgent")
                },
            },
        },
        "graph": {
            "type": "object",
            "required": ["nodes", "edges"],
            "properties": {
                "nodes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["temp_id", "name", "role_id", "weight"],
                        "properties": {
                            "temp_id": _STRING,
                            "name": _STRING,
                            "role_id": _ROLE,
                            "is_start": {"type": "boolean"},
                            "is_end": {"type": "boolean"},
                            "weight": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                            "escalate_to": _ROLE,
                        },
                    },
                },
                "edges": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["from_temp_id", "to_temp_id", "name"],
                        "properties": {k: _STRING for k in ("from_temp_id", "to_temp_id", "name")},
                    },
                },
            },
        },
    },
}

YAML_DOCUMENT: Schema = {
    "type": "object",
    "required": ["blueprint", "states"],
    "description": "A YAML blueprint document as JSON (`docs/yaml-blueprints.md`).",
    "properties": {
        "blueprint": _STRING,
        "api_version": _STRING,
        "api_endpoint": _STRING,
        "description": _STRING,
        "states": {"type": "object"},
    },
}
