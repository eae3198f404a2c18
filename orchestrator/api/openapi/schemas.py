"""JSON Schemas of the OpenAPI document's request bodies, generated from the Structs that
``schemas.py`` decodes them with (``worker_sdk.protocol`` for the worker's, ``human_bodies``
and ``tickets`` for the human steps'), and the two blueprint documents (``blueprints.py``).

Request schemas say exactly what the server refuses with a 400: a body that breaks one is
refused, and one that fits is not refused for its shape (the fuzz test holds both to it).
``answers.py`` has the bodies of the answers, the error envelope among them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from orchestrator.api.human_bodies import (
    ApprovalBody,
    AssignmentBody,
    DecisionBody,
    EscalationBody,
)
from orchestrator.api.openapi.blueprints import WORKFLOW, YAML_DOCUMENT
from orchestrator.api.schemas import (
    MAX_URL_LENGTH,
    WEBHOOK_URL,
    NewJobBody,
    allowed_webhook_url,
)
from orchestrator.api.tickets import TicketTransitionBody
from orchestrator.config import Settings
from worker_sdk.protocol import (
    Heartbeat,
    Registration,
    TaskDecline,
    TaskProgress,
    TaskResult,
)

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


# -- requests ---------------------------------------------------------------------------------


def new_job(settings: Settings) -> Schema:
    """The ``NewJob`` body as ``settings`` make the server check it: the webhook URLs it
    takes (``schemas.webhook_problem``), none when webhooks are off."""
    generated = REQUESTS["NewJob"]
    if not settings.webhooks.secret:
        off = {
            "type": "null",
            "description": "Webhooks are off on this server (no `webhook_secret`): only null.",
        }
        return {**generated, "properties": {**generated["properties"], "webhook_url": off}}
    allowed = settings.webhooks.allowed_hosts
    pattern = allowed_webhook_url(allowed).pattern if allowed else WEBHOOK_URL.pattern
    hosts = (
        f"Only these hosts (and subdomains of a `*.` entry): {', '.join(allowed)}. "
        if allowed
        else ""
    )
    url = {
        "type": "string",
        "maxLength": MAX_URL_LENGTH,
        "pattern": pattern,
        "description": "An http(s) URL with a host name or IPv4 address (no IPv6 literal), "
        "an optional port 1-65535, no spaces or control characters; receives signed "
        f"notifications when the job waits for a human and when it ends. {hosts}".strip(),
    }
    properties = {**generated["properties"], "webhook_url": nullable(url)}
    return {**generated, "properties": properties}


def _integers(schema: object) -> object:
    """Counts are ``float`` with ``multiple_of=1`` (see ``worker_sdk.protocol``): a number
    that is a multiple of 1 is what JSON Schema calls an integer, and says so plainer."""
    if isinstance(schema, list):
        return [_integers(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _integers(value) for key, value in schema.items()}
    if out.get("type") == "number" and out.get("multipleOf") == 1:
        del out["multipleOf"]
        out["type"] = "integer"
    return out


def generated(*types: type[msgspec.Struct]) -> dict[str, Schema]:
    """The components of ``types`` (and of the Structs they hold), by name less ``Body``."""
    _, components = msgspec.json.schema_components(types, ref_template=ref("{name}")["$ref"])
    bodies: dict[str, Schema] = {}
    for name, schema in components.items():
        schema = _integers(schema)
        assert isinstance(schema, dict)
        schema.pop("title", None)
        if schema.get("required") == []:  # a Struct of optional fields only
            del schema["required"]
        bodies[name.removesuffix("Body")] = schema
    return bodies


def _requests() -> dict[str, Schema]:
    """The request bodies' components, from the very Structs the server decodes them with,
    and what a Struct cannot say."""
    bodies = generated(
        NewJobBody,
        Registration,
        Heartbeat,
        TaskResult,
        TaskDecline,
        TaskProgress,
        DecisionBody,
        ApprovalBody,
        AssignmentBody,
        EscalationBody,
        TicketTransitionBody,
    )
    # No body (or null) is a body the server takes: an empty job, a heartbeat of no change.
    for name in ("NewJob", "Heartbeat"):
        bodies[name]["type"] = ["object", "null"]
    # A decision is required (the step refuses a missing one, 400 `INVALID_DECISION`).
    for name in ("Decision", "Approval"):
        bodies[name]["required"] = ["decision"]
        for field in ("decision", "token"):  # a string when given: no null default
            bodies[name]["properties"].get(field, {}).pop("default", None)
    bodies["Assignment"]["anyOf"] = [  # names a role or an assignee; a null one names nobody
        {"required": [field], "properties": {field: {"type": "string"}}}
        for field in ("role", "assignee")
    ]
    bodies["TicketTransition"]["oneOf"] = [  # the transition by name or by number, not both
        {"required": [field], "properties": {field: {"type": kind}}}
        for field, kind in (("transition", "string"), ("transition_id", "integer"))
    ]
    return {**bodies, "Workflow": WORKFLOW, "YamlBlueprint": YAML_DOCUMENT}


REQUESTS: dict[str, Schema] = _requests()
