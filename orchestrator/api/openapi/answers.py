"""JSON Schemas of the bodies the handlers answer with (``render.py`` and the route modules).

They list the fields a client can rely on and allow more, so that a new field is not a
breaking change.
"""

from __future__ import annotations

from orchestrator.api.openapi.schemas import (
    ERROR,
    LABELS,
    UNROUTABLE,
    Schema,
    generated,
    nullable,
    ref,
)
from orchestrator.engine.model import JobStatus, TaskStatus
from worker_sdk.protocol import Task, TaskBatch

_TIME = {"type": "string", "format": "date-time"}

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
                "progress": {
                    "type": ["object", "null"],
                    "description": "The latest `ctx.progress` report of this attempt, or null.",
                    "properties": {
                        "fraction": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                        "message": {"type": ["string", "null"]},
                        "data": {"type": ["object", "null"]},
                        "at": _TIME,
                    },
                },
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
        "initial_data": {
            "type": "object",
            "description": "The job's input (a single job's answer, not the list's).",
        },
        "data": {
            "type": "object",
            "description": "What its tasks returned, merged (later keys over earlier ones); "
            "a single job's answer, not the list's.",
        },
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
        "source": {"enum": ["file", "registered"]},
        "versions": {"type": "array", "items": {"type": "string"}},
        "routes": {
            "type": "array",
            "description": "The routes the blueprint declares (docs/blueprints.md).",
            "items": {
                "type": "object",
                "required": ["kind", "method", "path"],
                "properties": {
                    "kind": {"enum": ["start", "action", "read"]},
                    "method": {"type": "string"},
                    "path": {"type": "string"},
                },
            },
        },
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
        "labels": LABELS,
        "draining": {"type": "boolean", "description": "Drained: no new tasks; it leaves soon."},
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
        "queue_oldest_s": {
            "type": "object",
            "description": "Seconds the oldest queued task of each task type has waited; "
            "null when its queue is empty.",
            "additionalProperties": {"type": ["number", "null"]},
        },
        "unroutable": UNROUTABLE,
        "workers": {
            "type": "object",
            "properties": {
                "active": {"type": "integer"},
                "busy": {"type": "integer"},
                "draining": {"type": "integer", "description": "Active workers drained."},
            },
        },
        "finished": {
            "type": "object",
            "properties": {"last_minute": {"type": "integer"}, "last_hour": {"type": "integer"}},
        },
        "finished_per_minute": {
            "type": "array",
            "description": "Jobs that ended in each of the last 60 minutes, oldest first; the "
            "last is the minute under way.",
            "items": {"type": "integer"},
            "minItems": 60,
            "maxItems": 60,
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
            "description": "Attempts of this worker's tasks cancelled since the last heartbeat: "
            "stop each named attempt, and no other attempt of its task.",
            "items": {
                "type": "object",
                "required": ["job_id", "task_id"],
                "properties": {
                    "type": {"const": "cancel_task"},
                    "job_id": {"type": "string"},
                    "task_id": {"type": "string"},
                    "attempt": {
                        "type": "integer",
                        "description": "The attempt to stop (always sent; absent only from "
                        "cancels stored by an older version, meaning every attempt).",
                    },
                },
            },
        },
        "draining": {"type": "boolean", "description": "Drained: stop polling, finish, leave."},
    },
}

TASK: Schema = generated(Task)["Task"]
TASK_BATCH: Schema = generated(TaskBatch)["TaskBatch"]

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

DECLINE_ANSWER: Schema = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"const": "task_released"}},
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


ANSWERS: dict[str, Schema] = {
    "StatusOk": STATUS_OK,
    "StatusDown": STATUS_DOWN,
    "ApprovalReceived": APPROVAL_RECEIVED,
    "Flushed": FLUSHED,
    "Accepted": ACCEPTED,
    "Job": JOB,
    "JobPage": JOB_PAGE,
    "Cancelled": CANCELLED,
    "Event": EVENT,
    "StreamedEvent": STREAMED_EVENT,
    "Blueprint": BLUEPRINT,
    "Worker": WORKER,
    "Dashboard": DASHBOARD,
    "Registered": REGISTERED,
    "HeartbeatAnswer": HEARTBEAT_ANSWER,
    "Task": TASK,
    "TaskBatch": TASK_BATCH,
    "ResultAnswer": RESULT_ANSWER,
    "DeclineAnswer": DECLINE_ANSWER,
    "FileList": FILE_LIST,
    "UploadLink": UPLOAD_LINK,
    "Uploaded": UPLOADED,
}
