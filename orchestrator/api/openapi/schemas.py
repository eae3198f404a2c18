"""JSON Schemas of the OpenAPI document's request bodies, generated from the Structs that
``schemas.py`` decodes them with (``worker_sdk.protocol`` for the worker's), and of the error
envelope.

Request schemas say exactly what the server refuses with a 400: a body that breaks one is
refused, and one that fits is not refused for its shape (the fuzz test holds both to it).
``openapi_answers.py`` has the bodies of the answers.
"""

from __future__ import annotations

from typing import Any

import msgspec

from orchestrator.api.schemas import (
    MAX_URL_LENGTH,
    WEBHOOK_URL,
    NewJobBody,
    allowed_webhook_url,
)
from orchestrator.config import Settings
from orchestrator.error_codes import CODES
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


# -- errors -----------------------------------------------------------------------------------

ERROR: Schema = {
    "type": "object",
    "description": "Every error answer. `code` is stable; `message` is for people.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "additionalProperties": False,
            "properties": {
                "code": {
                    "type": "string",
                    "pattern": "^[A-Z0-9_]+$",
                    "description": f"One of {', '.join(sorted(CODES))} (docs/api.md has each "
                    "one's status and meaning), or `HTTP_<status>` for a refusal of aiohttp's.",
                    "examples": ["JOB_NOT_FOUND"],
                },
                "message": {"type": "string"},
                "details": {
                    "type": "object",
                    "description": "What the code needs, e.g. `field` for a 400, `allowed` "
                    "for a refused decision, `status` for a 409, `retry_after_s` for a 429.",
                },
            },
        }
    },
}

# -- requests ---------------------------------------------------------------------------------


def new_job(settings: Settings) -> Schema:
    """The ``NewJob`` body as ``settings`` make the server check it: the webhook URLs it
    takes (``schemas.webhook_problem``), none when webhooks are off."""
    generated = BODIES["NewJob"]
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


LABELS: Schema = {
    "type": "object",
    "description": "`key: value` labels a task's `requires` may ask for (`WORKER_LABELS`).",
    "additionalProperties": {"type": "string"},
}

UNROUTABLE: Schema = {
    "type": "array",
    "description": "Queued tasks no live worker can take (no worker with the skill, or with "
    "the tags and labels of `requires`), per task type and requirement set. They wait.",
    "items": {
        "type": "object",
        "required": ["task_type", "requires", "queued"],
        "properties": {
            "task_type": {"type": "string"},
            "requires": {
                "type": "object",
                "description": 'e.g. `{"tags": ["gpu"], "region": "eu"}`',
            },
            "queued": {"type": "integer"},
        },
    },
}


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
        bodies[name.removesuffix("Body")] = schema
    return bodies


def _requests() -> dict[str, Schema]:
    """The request bodies' components, from the very Structs the server decodes them with."""
    bodies = generated(NewJobBody, Registration, Heartbeat, TaskResult, TaskDecline, TaskProgress)
    # No body (or null) is a body the server takes: an empty job, a heartbeat of no change.
    for name in ("NewJob", "Heartbeat"):
        bodies[name]["type"] = ["object", "null"]
    return bodies


BODIES = _requests()

REQUESTS: dict[str, Schema] = {
    "Error": ERROR,
    **BODIES,
}
