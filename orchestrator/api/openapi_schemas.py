"""JSON Schemas of the OpenAPI document: request bodies as ``schemas.py`` checks them, and the
bodies the handlers answer with (``render.py``, the route modules).

Request schemas say exactly what the server refuses with a 400: a body that breaks one is
refused, and one that fits is not refused for its shape (the fuzz test holds both to it).
Response schemas list the fields a client can rely on and allow more, so that a new field
is not a breaking change.
"""

from __future__ import annotations

from typing import Any

from orchestrator.api.schemas import MAX_TIMEOUT_S
from orchestrator.engine.model import JobStatus, TaskStatus
from orchestrator.storage.keys import _NAME

Schema = dict[str, Any]

NAME_PATTERN = _NAME.pattern
"""Worker ids and task types: they end up inside Redis keys."""


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


_TIME = {"type": "string", "format": "date-time"}
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
                "code": {"type": "string", "pattern": "^[A-Z0-9_]+$", "examples": ["JOB_NOT_FOUND"]},
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
    "type": "object",
    "additionalProperties": False,
    "description": "Every field is optional; an empty body starts the job with no data.",
    "properties": {
        "initial_data": {
            "type": ["object", "null"],
            "description": "The job's input, handed to the blueprint's handlers.",
        },
        "webhook_url": {
            "anyOf": [
                {
                    "type": "string",
                    "maxLength": 2048,
                    "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^\\x00- ]+$",
                },
                {"type": "null"},
            ],
            "description": "An http(s) URL with a host; receives signed notifications when the "
            "job waits for a human and when it ends. Refused (400) when the server has no "
            "`webhook_secret` or the host is not in its `webhook_allowed_hosts`.",
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

REGISTRATION: Schema = {
    "type": "object",
    "required": ["worker_id", "supported_skills"],
    "description": "Other fields are kept with the worker's record and shown by "
    "`GET /api/v1/workers`.",
    "properties": {
        "worker_id": _NAMED,
        "supported_skills": _SKILLS,
        "capacity": {"type": "integer", "minimum": 1, "default": 1},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
    },
}

HEARTBEAT: Schema = {
    "type": ["object", "null"],
    "description": "No body (or `null`) only refreshes the worker's TTL.",
    "properties": {
        "load": {"type": "integer", "minimum": 0, "description": "Tasks running now."},
        "running_tasks": {"type": "array", "items": {"type": "string"}},
        "supported_skills": _SKILLS,
        "capacity": {"type": "integer", "minimum": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
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
            },
        },
        "attempt": {
            "type": ["integer", "null"],
            "description": "The attempt the worker ran; a stale attempt is refused with 409.",
        },
    },
}

# -- responses --------------------------------------------------------------------------------

STATUS_OK: Schema = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"const": "ok"},
        "parked_polls": {"type": "integer", "description": "Worker long-polls waiting here."},
    },
}

STATUS_DOWN: Schema = {
    "type": "object",
    "required": ["status", "error"],
    "properties": {"status": {"const": "unavailable"}, "error": ERROR["properties"]["error"]},
}

APPROVAL_RECEIVED: Schema = {
    "type": "object",
    "required": ["status", "job_id"],
    "properties": {"status": {"const": "approval_received"}, "job_id": {"type": "string"}},
}

FLUSHED: Schema = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"const": "db_flushed"}, "deleted": {"type": "integer"}},
}

JOB: Schema = {
    "type": "object",
    "required": [
        "job_id",
        "blueprint",
        "blueprint_version",
        "status",
        "current_state",
        "created_at",
        "updated_at",
        "finished_at",
        "result",
        "error",
    ],
    "properties": {
        "job_id": {"type": "string"},
        "blueprint": {"type": "string"},
        "blueprint_version": {"type": "string", "description": "Hash of the blueprint's code."},
        "status": {"type": "string", "enum": [s.value for s in JobStatus]},
        "current_state": {"type": "string"},
        "created_at": _TIME,
        "updated_at": _TIME,
        "finished_at": nullable(_TIME),
        "result": {"description": "What the end state returned (finished jobs)."},
        "error": {"type": ["object", "null"], "description": "`code` and `message` of a failure."},
        "task": {
            "type": "object",
            "description": "The task the job waits on.",
            "properties": {
                "task_id": {"type": "string"},
                "task_type": {"type": "string"},
                "status": {"type": "string", "enum": [s.value for s in TaskStatus]},
                "attempt": {"type": "integer"},
                "worker_id": {"type": ["string", "null"]},
            },
        },
        "approval": {
            "type": "object",
            "description": "Present while the job waits for a person.",
            "properties": {
                "state": {"type": "string"},
                "decisions": {"type": "array", "items": {"type": "string"}},
                "token": {"type": ["string", "null"]},
                "expires_at": nullable(_TIME),
                "url": {"type": "string"},
            },
        },
        "parallel": {
            "type": "object",
            "properties": {
                "total": {"type": "integer"},
                "pending": {"type": "integer"},
                "aggregate_into": {"type": "string"},
            },
        },
        "child_job_id": {"type": "string"},
        "parent_job_id": {"type": "string"},
    },
}

ACCEPTED: Schema = {
    "type": "object",
    "required": ["status", "job_id"],
    "properties": {"status": {"const": "accepted"}, "job_id": {"type": "string"}},
}

JOB_PAGE: Schema = {
    "type": "object",
    "required": ["jobs", "offset", "limit", "next_offset"],
    "properties": {
        "jobs": {"type": "array", "items": ref("Job")},
        "offset": {"type": "integer"},
        "limit": {"type": "integer"},
        "next_offset": {
            "type": ["integer", "null"],
            "description": "Pass as `offset` for the next page; null after the last one.",
        },
    },
}

CANCELLED: Schema = {
    "type": "object",
    "required": ["status", "job_id"],
    "properties": {
        "status": {"enum": ["cancellation_request_sent", "cancellation_request_accepted"]},
        "job_id": {"type": "string"},
    },
}

EVENT: Schema = {
    "type": "object",
    "required": ["id", "type", "at", "timestamp"],
    "description": "One history event; each type carries fields of its own.",
    "properties": {
        "id": {"type": "integer", "description": "Position in the history, from 1."},
        "type": {"type": "string", "examples": ["job_created", "task_result", "job_finished"]},
        "at": {"type": "number", "description": "Unix time, seconds."},
        "timestamp": _TIME,
    },
}

STREAMED_EVENT: Schema = {
    "type": "object",
    "description": "One Server-Sent Event (OpenAPI 3.1 describes each event of a stream).",
    "required": ["id", "event", "data"],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The event's `id`."},
        "event": {"type": "string", "description": "The event's `type`."},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": ref("Event"),
        },
    },
}

BLUEPRINT: Schema = {
    "type": "object",
    "required": ["name", "version", "endpoint", "states", "start", "end"],
    "properties": {
        "name": {"type": "string"},
        "version": {"type": "string"},
        "endpoint": {"type": "string", "examples": ["/api/v1/greeting"]},
        "states": {"type": "array", "items": {"type": "string"}},
        "start": {"type": "string"},
        "end": {"type": "array", "items": {"type": "string"}},
    },
}

WORKER: Schema = {
    "type": "object",
    "required": ["worker_id", "supported_skills", "capacity", "load", "last_heartbeat"],
    "properties": {
        "worker_id": {"type": "string"},
        "supported_skills": {"type": "array", "items": {"type": "string"}},
        "capacity": {"type": "integer"},
        "load": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "registered_at": nullable(_TIME),
        "last_heartbeat": _TIME,
    },
}

_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}

DASHBOARD: Schema = {
    "type": "object",
    "required": ["jobs", "queues", "workers", "finished"],
    "properties": {
        "jobs": {
            "type": "object",
            "description": "Non-terminal jobs: blueprint → status → count.",
            "additionalProperties": _COUNTS,
        },
        "queues": {**_COUNTS, "description": "Queued tasks by task type."},
        "workers": {
            "type": "object",
            "properties": {"active": {"type": "integer"}, "busy": {"type": "integer"}},
        },
        "finished": {
            "type": "object",
            "properties": {"last_minute": {"type": "integer"}, "last_hour": {"type": "integer"}},
        },
    },
}

REGISTERED: Schema = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"const": "registered"},
        "heartbeat_interval_s": {"type": "number"},
        "lease_s": {"type": "number"},
        "poll_timeout_s": {"type": "number"},
    },
}

HEARTBEAT_ANSWER: Schema = {
    "type": "object",
    "required": ["status", "cancelled_tasks"],
    "properties": {
        "status": {"const": "ttl_refreshed"},
        "cancelled_tasks": {
            "type": "array",
            "description": "Tasks of this worker cancelled since the last heartbeat: stop them.",
            "items": {"type": "object"},
        },
    },
}

TASK: Schema = {
    "type": "object",
    "required": ["job_id", "task_id", "task_type", "params", "attempt"],
    "properties": {
        "job_id": {"type": "string"},
        "task_id": {"type": "string"},
        "task_type": {"type": "string"},
        "params": {"type": "object"},
        "attempt": {"type": "integer"},
        "max_attempts": {"type": "integer"},
        "timeout_s": {"type": ["number", "null"]},
    },
}

RESULT_ANSWER: Schema = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {
            "type": "string",
            "examples": ["result_accepted_success", "result_accepted_failure"],
        }
    },
}

FILE_LIST: Schema = {
    "type": "object",
    "required": ["job_id", "files", "truncated"],
    "properties": {
        "job_id": {"type": "string"},
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "filename": {"type": "string"},
                    "size": {"type": "integer"},
                    "last_modified": {"type": "string"},
                    "download_url": {"type": "string"},
                },
            },
        },
        "truncated": {"type": "boolean"},
    },
}

UPLOAD_LINK: Schema = {
    "type": "object",
    "required": ["url", "expires_in", "method"],
    "properties": {
        "url": {"type": "string"},
        "expires_in": {"type": "integer"},
        "method": {"const": "PUT"},
        "s3_uri": {"type": "string"},
    },
}

UPLOADED: Schema = {
    "type": "object",
    "required": ["status", "s3_uri"],
    "properties": {
        "status": {"const": "uploaded"},
        "s3_uri": {"type": "string"},
        "filename": {"type": "string"},
        "size": {"type": "integer"},
        "sha256": {"type": "string"},
    },
}

COMPONENTS: dict[str, Schema] = {
    "StatusOk": STATUS_OK,
    "StatusDown": STATUS_DOWN,
    "ApprovalReceived": APPROVAL_RECEIVED,
    "Flushed": FLUSHED,
    "Error": ERROR,
    "NewJob": NEW_JOB,
    "Accepted": ACCEPTED,
    "Job": JOB,
    "JobPage": JOB_PAGE,
    "Cancelled": CANCELLED,
    "Event": EVENT,
    "StreamedEvent": STREAMED_EVENT,
    "Blueprint": BLUEPRINT,
    "Worker": WORKER,
    "Dashboard": DASHBOARD,
    "Approval": APPROVAL,
    "Registration": REGISTRATION,
    "Registered": REGISTERED,
    "Heartbeat": HEARTBEAT,
    "HeartbeatAnswer": HEARTBEAT_ANSWER,
    "Task": TASK,
    "TaskResult": TASK_RESULT,
    "ResultAnswer": RESULT_ANSWER,
    "FileList": FILE_LIST,
    "UploadLink": UPLOAD_LINK,
    "Uploaded": UPLOADED,
}
