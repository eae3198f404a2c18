"""The OpenAPI operations and schemas of run-time blueprint registration (``registration.py``):
a YAML blueprint document or a seed-003 workflow in, the registered blueprint out."""

from __future__ import annotations

from typing import Any

from orchestrator.api.openapi.operations import CLIENTS, Paths, json_body, operation, path_param
from orchestrator.api.openapi.schemas import Schema, ref

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

SCHEMAS: dict[str, Schema] = {
    "Workflow": WORKFLOW,
    "YamlBlueprint": YAML_DOCUMENT,
}
"""The request bodies; the answers' schemas are generated (``answers.py``)."""

_NAME = path_param("name", "The blueprint's name.")
_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": {"anyOf": [ref("Workflow"), ref("YamlBlueprint")]}},
        "application/yaml": {"schema": {"type": "string"}},
    },
}
_INVALID = (
    "400 `BLUEPRINT_INVALID`: `details.problems` lists every problem, each with a `path` into "
    "the document (e.g. `graph.nodes[2].temp_id`) and a `message`. 403 "
    "`BLUEPRINT_MANAGEMENT_FORBIDDEN` unless the client has `can_manage_blueprints`."
)


def _saved(what: str) -> dict[int, Any]:
    return {
        201: json_body(ref("RegisteredBlueprint"), f"{what}; every process serves it within 1 s."),
        200: json_body(ref("RegisteredBlueprint"), "This content is current already: nothing new."),
    }


def blueprint_paths() -> Paths:
    return {
        "/api/v1/blueprints": {
            "post": operation(
                CLIENTS,
                "register_blueprint",
                "Register a YAML blueprint or a seed-003 workflow",
                _saved("Stored in Redis"),
                (400, 403, 409, 413, 503),
                body=_BODY,
                description=f"{_INVALID} 409 `BLUEPRINT_EXISTS` when the name is registered "
                "with other content: PUT a new version instead.",
            )
        },
        "/api/v1/blueprints/{name}": {
            "get": operation(
                CLIENTS,
                "describe_blueprint",
                "A blueprint's definition, versions and graph",
                {200: json_body(ref("BlueprintDetail"), "`?version=` picks an earlier one.")},
                (404, 503),
                params=(_NAME,),
            ),
            "put": operation(
                CLIENTS,
                "replace_blueprint",
                "Register a new version; running jobs keep theirs",
                _saved("The new version is current"),
                (400, 403, 404, 413, 503),
                params=(_NAME,),
                body=_BODY,
                description=f"{_INVALID} 404 when the name was never registered.",
            ),
            "delete": operation(
                CLIENTS,
                "retire_blueprint",
                "Retire a registered blueprint: no new jobs, running ones finish",
                {200: json_body(ref("BlueprintRetired"), "New jobs now get 410.")},
                (403, 404, 409, 503),
                params=(_NAME,),
                description="409 `BLUEPRINT_NOT_REGISTERED` for a code-defined blueprint.",
            ),
        },
    }
