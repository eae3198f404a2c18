"""JSON Schemas of the OpenAPI document's request bodies, as ``schemas.py`` checks them, and
of the error envelope.

Request schemas say exactly what the server refuses with a 400: a body that breaks one is
refused, and one that fits is not refused for its shape (the fuzz test holds both to it).
``openapi_answers.py`` has the bodies of the answers.
"""

from __future__ import annotations

from typing import Any

from orchestrator.api.schemas import (
    MAX_INTEGER,
    MAX_TIMEOUT_S,
    MAX_URL_LENGTH,
    WEBHOOK_URL,
    allowed_webhook_url,
)
from orchestrator.config import Settings
from orchestrator.error_codes import CODES
from orchestrator.storage.keys import _NAME

Schema = dict[str, Any]

NAME_PATTERN = _NAME.pattern + "(?!\\n)"
"""Worker ids and task types: they end up inside Redis keys. Python's ``$`` also matches
before a trailing newline, which ``check_name`` refuses: the lookahead says so."""


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def count(minimum: int, **extra: Any) -> Schema:
    """An integer as ``schemas.integer`` takes it (``2.0`` is one, as JSON Schema says)."""
    return {"type": "integer", "minimum": minimum, "maximum": MAX_INTEGER, **extra}


_TEXT = {"type": "string", "minLength": 1}
_NAMED = {"type": "string", "pattern": NAME_PATTERN}
_SKILLS = {
    "type": "array",
    "minItems": 1,
    "items": _NAMED,
    "description": "Task types this worker handles (duplicates are dropped).",
}

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

_SECONDS = {
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_TIMEOUT_S},
        {"type": "null"},
    ],
}

NEW_JOB: Schema = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "description": "Every field is optional; an empty body (or `null`) starts the job with "
    "no data.",
    "properties": {
        "initial_data": {
            "type": ["object", "null"],
            "description": "The job's input, handed to the blueprint's handlers.",
        },
        "webhook_url": {
            "type": "null",
            "description": "Webhooks are off on this server (no `webhook_secret`): only null.",
        },
        "dispatch_timeout": {
            **_SECONDS,
            "description": "Longest wait, in seconds, of a task in the queue before a worker "
            "takes it; past it the job fails with `DISPATCH_TIMEOUT`.",
        },
        "result_timeout": {
            **_SECONDS,
            "description": "Deadline, in seconds from creation, for the whole job; past it the "
            "job fails with `RESULT_TIMEOUT`.",
        },
    },
}


def new_job(settings: Settings) -> Schema:
    """``NEW_JOB`` as ``settings`` make the server check it: the webhook URLs it takes."""
    if not settings.webhooks.secret:
        return NEW_JOB
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
    properties = {**NEW_JOB["properties"], "webhook_url": nullable(url)}
    return {**NEW_JOB, "properties": properties}


APPROVAL: Schema = {
    "type": "object",
    "required": ["decision"],
    "properties": {
        "decision": {"type": "string", "description": "One of the job's `approval.decisions`."},
        "token": {
            "type": "string",
            "description": "The job's `approval.token`, when not sent as `X-Approval-Token`.",
        },
    },
}

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

REGISTRATION: Schema = {
    "type": "object",
    "required": ["worker_id", "supported_skills"],
    "description": "Other fields are kept with the worker's record and shown by "
    "`GET /api/v1/workers`.",
    "properties": {
        "worker_id": _NAMED,
        "supported_skills": _SKILLS,
        "capacity": count(1, default=1),
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        "labels": LABELS,
    },
}

HEARTBEAT: Schema = {
    "type": ["object", "null"],
    "description": "No body (or `null`) only refreshes the worker's TTL.",
    "properties": {
        "load": count(0, description="Tasks running now."),
        "running_tasks": {"type": "array", "items": {"type": "string"}},
        "supported_skills": _SKILLS,
        "capacity": count(1),
        "tags": {"type": "array", "items": {"type": "string"}},
        "labels": LABELS,
    },
}

TASK_RESULT: Schema = {
    "type": "object",
    "required": ["job_id", "task_id", "worker_id", "status"],
    "properties": {
        "job_id": _TEXT,
        "task_id": _TEXT,
        "worker_id": _TEXT,
        "status": {
            **_TEXT,
            "description": "`success`, `failure`, or a status the blueprint maps to a state.",
            "examples": ["success"],
        },
        "data": {"type": ["object", "null"], "description": "The task's output."},
        "error": {
            "type": ["object", "null"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "retryable": {"type": "boolean"},
                "retry_after_s": {
                    "type": ["number", "null"],
                    "minimum": 0,
                    "maximum": 999999999,
                    "description": (
                        "With `retryable`: seconds to wait before the next attempt "
                        "(`RetryLater(after=...)`), capped at the retry policy's "
                        "`max_interval_s`; the attempt still counts. Null: the policy's backoff."
                    ),
                },
            },
        },
        "attempt": {
            "anyOf": [count(1), {"type": "null"}],
            "description": (
                "The attempt the worker ran (the task's `attempt`). The result counts only for "
                "that attempt: a stale one is refused with 409 and recorded as "
                "`result_dropped`. Without it, the result counts for the attempt the job waits "
                "for (seed 002's body has no attempt)."
            ),
        },
    },
}


TASK_DECLINE: Schema = {
    "type": "object",
    "required": ["job_id", "task_id", "worker_id", "attempt"],
    "properties": {
        "job_id": _TEXT,
        "task_id": _TEXT,
        "worker_id": _TEXT,
        "attempt": count(1, description="The attempt the worker was given and will not run."),
        "reason": {
            "type": ["string", "null"],
            "maxLength": 200,
            "description": "Why, for the job's history.",
        },
    },
}


TASK_PROGRESS: Schema = {
    "type": "object",
    "required": ["job_id", "task_id", "worker_id", "attempt"],
    "properties": {
        "job_id": _TEXT,
        "task_id": _TEXT,
        "worker_id": _TEXT,
        "attempt": count(1, description="The attempt running; a report of another is refused."),
        "fraction": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "message": {"type": ["string", "null"], "maxLength": 200},
        "data": {"type": ["object", "null"], "description": "JSON, at most 4096 bytes encoded."},
    },
}


REQUESTS: dict[str, Schema] = {
    "Error": ERROR,
    "NewJob": NEW_JOB,
    "Approval": APPROVAL,
    "Registration": REGISTRATION,
    "Heartbeat": HEARTBEAT,
    "TaskResult": TASK_RESULT,
    "TaskDecline": TASK_DECLINE,
    "TaskProgress": TASK_PROGRESS,
}
