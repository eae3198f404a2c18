"""The /_worker operations of the OpenAPI document (``openapi_paths.py`` has the others)."""

from __future__ import annotations

from orchestrator.api.openapi.operations import (
    FILENAME,
    JOB_ID,
    WORKER_ID,
    WORKERS,
    X_WORKER_ID,
    Paths,
    body,
    expires,
    header,
    json_body,
    octets,
    operation,
    query,
    redirect,
)
from orchestrator.api.openapi.schemas import ref
from orchestrator.api.schemas import anchored
from orchestrator.config import Settings
from worker_sdk.protocol import MAX_BATCH

HANDSHAKE = (
    header("Upgrade", {"type": "string", "enum": ["websocket"]}, "RFC 6455.", required=True),
    header("Connection", {"type": "string", "enum": ["Upgrade"]}, "RFC 6455.", required=True),
    header("Sec-WebSocket-Version", {"type": "string", "enum": ["13"]}, "RFC 6455.", required=True),
    header(
        "Sec-WebSocket-Key",
        {"type": "string", "pattern": anchored("[A-Za-z0-9+/]{22}==")},
        "16 random bytes in base64 (RFC 6455).",
        required=True,
    ),
)
"""The WebSocket handshake a client library sends (RFC 6455 4.1)."""

DRAINING = json_body(ref("Draining"), "Draining (the same answer to a second drain).")
"""The answer to a drain, the operator's or the worker's own."""


def worker_paths(settings: Settings) -> Paths:
    held = (X_WORKER_ID,)
    files = "/_worker/jobs/{job_id}/files"
    return {
        "/_worker/workers/register": {
            "post": operation(
                WORKERS,
                "register_worker",
                "Register a worker and its skills",
                {200: json_body(ref("Registered"), "Registered; the answer has the timings.")},
                (400, 403, 503),
                body=body("Registration"),
            )
        },
        "/_worker/workers/{worker_id}": {
            "patch": operation(
                WORKERS,
                "heartbeat",
                "Heartbeat: refresh the TTL, optionally update load or skills",
                {200: json_body(ref("HeartbeatAnswer"), "TTL refreshed.")},
                (400, 403, 404, 503),
                params=(WORKER_ID,),
                body=body("Heartbeat", required=False),
                description="404 `WORKER_NOT_REGISTERED`: register again.",
            ),
            "delete": operation(
                WORKERS,
                "deregister_worker",
                "Deregister: the worker stopped",
                {204: {"description": "Forgotten (an unknown worker gets the same answer)."}},
                (403, 503),
                params=(WORKER_ID,),
                description="The worker leaves `GET /api/v1/workers` at once rather than when "
                "its heartbeats stop counting; a drain of it ends.",
            ),
        },
        "/_worker/workers/{worker_id}/drain": {
            "post": operation(
                WORKERS,
                "announce_draining",
                "A worker stopping on its own (SIGTERM) drains: no new tasks from now on",
                {202: DRAINING},
                (403, 404, 503),
                params=(WORKER_ID,),
                description="As `POST /api/v1/workers/{worker_id}/drain` does for an operator. "
                "404 `WORKER_NOT_REGISTERED`: the orchestrator does not know the worker.",
            )
        },
        "/_worker/workers/{worker_id}/tasks/next": {
            "get": operation(
                WORKERS,
                "next_task",
                "Long-poll for the next task (or several)",
                {
                    200: json_body(
                        {"oneOf": [ref("Task"), ref("TaskBatch")]},
                        "Leased to this worker: a `Task` without `max` (or with `max=1`), "
                        "else a `TaskBatch` of 1 to `max` tasks.",
                    ),
                    204: {"description": "The wait ended with no task."},
                },
                (400, 403, 404, 409, 503),
                params=(
                    WORKER_ID,
                    query(
                        "timeout",
                        {"type": "number", "minimum": 0},
                        "Longest wait in seconds (capped by the server's poll timeout).",
                    ),
                    query(
                        "max",
                        {"type": "integer", "minimum": 1, "maximum": MAX_BATCH, "default": 1},
                        "Most tasks to take: the poll waits for the first, then adds only "
                        "those ready at once (a worker asks for its free slots).",
                    ),
                ),
            )
        },
        "/_worker/tasks/result": {
            "post": operation(
                WORKERS,
                "task_result",
                "Report a task's result",
                {200: json_body(ref("ResultAnswer"), "Accepted (a repeat gets the same answer).")},
                (400, 403, 409, 503),
                body=body("TaskResult"),
                description=(
                    "409 `TASK_NOT_HELD` when the worker does not hold the task, or the "
                    "`attempt` it names is not the one the job waits for."
                ),
            )
        },
        "/_worker/tasks/decline": {
            "post": operation(
                WORKERS,
                "decline_task",
                "Decline a task this worker was given and will not run",
                {200: json_body(ref("DeclineAnswer"), "Released: queued again, same attempt.")},
                (400, 403, 409, 503),
                body=body("TaskDecline"),
                description=(
                    "The task goes back to its queue at once instead of when its lease runs "
                    "out. 409 `TASK_NOT_HELD` when the worker does not hold that attempt "
                    "(a repeated decline included)."
                ),
            )
        },
        "/_worker/tasks/progress": {
            "post": operation(
                WORKERS,
                "report_progress",
                "Report how far a task this worker runs got",
                {
                    200: json_body(
                        ref("ProgressAnswer"),
                        "Recorded as a `task_progress` event, or dropped: it came less than "
                        "0.2 s after the attempt's previous one.",
                    )
                },
                (400, 403, 409, 503),
                body=body("TaskProgress"),
                description=(
                    "The job's history and SSE stream get a `task_progress` event, and "
                    "`GET /api/v1/jobs/{job_id}` shows the latest as `task.progress`. 409 "
                    "`TASK_NOT_HELD` when the worker does not hold that attempt."
                ),
            )
        },
        "/_worker/ws/{worker_id}": {
            "get": operation(
                WORKERS,
                "commands",
                "WebSocket of commands to the worker (`cancel_task`, `drain_worker`) and of "
                "its task results",
                {101: {"description": "Switching to the WebSocket protocol."}},
                (400, 403),
                params=(WORKER_ID, *HANDSHAKE),
                description='The orchestrator first sends `{"type": "hello", "accepts": '
                '["result"], "max_message_bytes"}`, then `{"type": "cancel_task", "job_id", '
                '"task_id", "attempt"}`: stop that attempt, and no other attempt of the task; '
                '`{"type": "drain_worker"}`: an operator drained the worker. The worker may '
                'send `{"type": "result", "id": <integer>, "body": <the body of POST '
                '/_worker/tasks/result>}`, answered `{"type": "result_ack", "id", "status"}` '
                'or `{"type": "result_error", "id", "http_status", "code", "message", '
                '"details"}`: what the POST would have answered. '
                "A GET without the WebSocket handshake is refused with 400 "
                "`WEBSOCKET_HANDSHAKE_REQUIRED`.",
            )
        },
        f"{files}/content/{{filename}}": {
            "put": operation(
                WORKERS,
                "worker_upload_file",
                "Upload an output file of the job whose task this worker holds",
                {200: json_body(ref("Uploaded"), "Stored.")},
                (400, 403, 404, 409, 413, 501, 503),
                params=(JOB_ID, FILENAME, *held),
                body=octets(),
            )
        },
        f"{files}/download/{{filename}}": {
            "get": operation(
                WORKERS,
                "worker_download_file",
                "Redirect to a fresh presigned S3 GET link of one of the job's files",
                {302: redirect()},
                (400, 403, 404, 409, 501, 503),
                params=(JOB_ID, FILENAME, *held, expires(settings)),
            )
        },
    }
