"""The operations of the OpenAPI document, route by route, with the statuses each handler (and
the middlewares in front of it) really answers.

Middlewares add answers to many routes: ``auth`` 401 on /api and /_worker, ``rate_limit``
429 on /api writes, ``body_size`` 413 on routes that take a body, ``errors`` 503 when Redis
does not answer. ``tests/openapi/test_routes_match.py`` keeps this list and the app's routes
the same.
"""

from __future__ import annotations

from typing import Any

from orchestrator.api.openapi_schemas import ref
from orchestrator.blueprint.dsl import Blueprint
from orchestrator.config import Settings
from orchestrator.engine.model import JobStatus

Operation = dict[str, Any]
Paths = dict[str, dict[str, Operation]]

PUBLIC, CLIENTS, WORKERS = "public", "clients", "workers"
_SECURITY = {PUBLIC: [], CLIENTS: [{"ClientToken": []}], WORKERS: [{"WorkerToken": []}]}
_GUARDS = {PUBLIC: (), CLIENTS: (401,), WORKERS: (401,)}

JSON = "application/json"


def _json(schema: Any, description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _text(media: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"type": "string"}}}}


def operation(
    group: str,
    op_id: str,
    summary: str,
    answers: dict[int, Any],
    errors: tuple[int, ...] = (),
    *,
    params: tuple[dict[str, Any], ...] = (),
    body: dict[str, Any] | None = None,
    description: str | None = None,
) -> Operation:
    """One operation; ``errors`` are statuses answered with the error envelope."""
    responses: dict[str, Any] = {str(status): answer for status, answer in answers.items()}
    for status in sorted({*errors, *_GUARDS[group], *((413,) if body else ())}):
        responses[str(status)] = {"$ref": f"#/components/responses/{status}"}
    op: Operation = {
        "operationId": op_id,
        "summary": summary,
        "tags": [group],
        "security": _SECURITY[group],
        "responses": responses,
    }
    if description:
        op["description"] = description
    if params:
        op["parameters"] = list(params)
    if body is not None:
        op["requestBody"] = body
    return op


def path_param(name: str, description: str = "", **schema: Any) -> dict[str, Any]:
    param = {"name": name, "in": "path", "required": True, "schema": {"type": "string", **schema}}
    if description:
        param["description"] = description
    return param


def query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> Any:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


def header(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "schema": schema,
        "description": description,
    }


def body(name: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": ref(name)}}}


JOB_ID = path_param("job_id", "The id `POST /api/{version}/{endpoint}` answered.")
WORKER_ID = path_param("worker_id", "The id the worker registered with.")
FILENAME = path_param("filename", "A plain file name: no `/`, `\\`, `..` or control characters.")
EXPIRES = query("expires_in", {"type": "integer", "minimum": 1}, "Link validity in seconds.")
X_WORKER_ID = header(
    "X-Worker-Id", {"type": "string"}, "The worker holding the job's task (or `?worker_id=`)."
)
JOB_VIEW = _json(ref("Job"), "The job.")


def public_paths(settings: Settings) -> Paths:
    paths: Paths = {
        "/_public/status": {
            "get": operation(
                PUBLIC,
                "status",
                "Liveness, including storage",
                {
                    200: _json(ref("StatusOk"), "Up, and storage answers."),
                    503: _json(ref("StatusDown"), "Storage does not answer."),
                },
            )
        },
        "/_public/metrics": {
            "get": operation(
                PUBLIC,
                "metrics",
                "Prometheus metrics",
                {200: _text("text/plain", "Prometheus text exposition format.")},
            )
        },
        "/_public/webhooks/approval/{job_id}": {
            "post": operation(
                PUBLIC,
                "approve",
                "A person's decision on a job waiting for one",
                {200: _json(ref("ApprovalReceived"), "Decision taken; the job moves on.")},
                (400, 403, 404, 409, 503),
                params=(
                    JOB_ID,
                    header(
                        "X-Approval-Token",
                        {"type": "string"},
                        "The job's `approval.token` (or `token` in the body).",
                    ),
                ),
                body=body("Approval"),
                description="400 `INVALID_DECISION` lists the allowed decisions; 409 "
                "`NOT_WAITING_FOR_HUMAN` names the job's status; 403 without the job's "
                "approval token for this wait.",
            )
        },
        "/_public/openapi.json": {
            "get": operation(
                PUBLIC, "openapi", "This document", {200: _json({"type": "object"}, "OpenAPI 3.1")}
            )
        },
        "/_public/docs": {
            "get": operation(
                PUBLIC,
                "docs",
                "Interactive documentation (works offline)",
                {200: _text("text/html", "An HTML page that reads this document.")},
            )
        },
    }
    if settings.dev_mode:
        paths["/_public/debug/flush_db"] = {
            "post": operation(
                PUBLIC,
                "flush_db",
                "Delete this deployment's keys (dev mode only)",
                {200: _json(ref("Flushed"), "Keys under this deployment's prefix deleted.")},
                (503,),
                description="Exists only when the server runs in dev mode (404 otherwise).",
            )
        }
    return paths


def client_paths(blueprints: list[Blueprint]) -> Paths:
    paths: Paths = {
        "/api/{version}/{endpoint}": {"post": create_operation(None)},
        "/api/v1/jobs": {
            "get": operation(
                CLIENTS,
                "list_jobs",
                "This client's jobs, newest first",
                {200: _json(ref("JobPage"), "One page of jobs.")},
                (400, 503),
                params=(
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "Page size"),
                    query("offset", {"type": "integer", "minimum": 0, "maximum": 10**9}, "Start"),
                    query("blueprint", {"type": "string"}, "Only jobs of this blueprint."),
                    query(
                        "status",
                        {"type": "string", "enum": [s.value for s in JobStatus]},
                        "Only jobs in this status.",
                    ),
                ),
            )
        },
        "/api/v1/jobs/{job_id}": {
            "get": operation(
                CLIENTS,
                "get_job",
                "A job's status",
                {200: JOB_VIEW},
                (400, 404, 503),
                params=(
                    JOB_ID,
                    query(
                        "wait",
                        {"type": "number", "minimum": 0},
                        "Wait up to this many seconds (at most 60) for the job to end first.",
                    ),
                ),
                description="404 also for another client's job.",
            )
        },
        "/api/v1/jobs/{job_id}/cancel": {
            "post": operation(
                CLIENTS,
                "cancel_job",
                "Cancel a job",
                {200: _json(ref("Cancelled"), "The job is cancelled.")},
                (404, 409, 429, 503),
                params=(JOB_ID,),
                description="`cancellation_request_sent`: the worker holding the task got a "
                "`cancel_task` command on its WebSocket; `cancellation_request_accepted`: it "
                "sees the cancel on its next heartbeat. 409 `JOB_ALREADY_TERMINAL`.",
            )
        },
        "/api/v1/jobs/{job_id}/retry": {
            "post": operation(
                CLIENTS,
                "retry_job",
                "Resume a failed or quarantined job from the state that failed",
                {200: JOB_VIEW},
                (404, 409, 429, 503),
                params=(JOB_ID,),
            )
        },
        "/api/v1/jobs/{job_id}/history": {
            "get": operation(
                CLIENTS,
                "job_history",
                "A job's events, in order",
                {200: _json({"type": "array", "items": ref("Event")}, "Every event so far.")},
                (404, 503),
                params=(JOB_ID,),
            )
        },
        "/api/v1/jobs/{job_id}/events": {
            "get": operation(
                CLIENTS,
                "job_events",
                "A job's events as Server-Sent Events",
                {
                    200: {
                        "description": "One SSE event per history event: `id`, `event` (its "
                        "type) and `data` (the event as JSON).",
                        "content": {"text/event-stream": {"schema": ref("StreamedEvent")}},
                    }
                },
                (400, 404, 503),
                params=(
                    JOB_ID,
                    header("Last-Event-ID", {"type": "integer"}, "Resume after this event id."),
                    query("last_event_id", {"type": "integer"}, "As `Last-Event-ID`."),
                ),
                description="Sends the events after `Last-Event-ID`, then new ones as they "
                "happen; ends after the terminal event. A comment line every 15 s keeps "
                "proxies from closing it.",
            )
        },
        "/api/v1/blueprints": {
            "get": operation(
                CLIENTS,
                "list_blueprints",
                "Blueprints served here",
                {200: _json({"type": "array", "items": ref("Blueprint")}, "Every blueprint.")},
            )
        },
        "/api/v1/blueprints/{name}/graph": {
            "get": operation(
                CLIENTS,
                "blueprint_graph",
                "A blueprint's states and transitions as DOT",
                {200: _text("text/vnd.graphviz", "Graphviz DOT source.")},
                (404,),
                params=(path_param("name", "The blueprint's name."),),
            )
        },
        "/api/v1/workers": {
            "get": operation(
                CLIENTS,
                "list_workers",
                "Live workers",
                {200: _json({"type": "array", "items": ref("Worker")}, "Workers seen lately.")},
                (503,),
            )
        },
        "/api/v1/dashboard": {
            "get": operation(
                CLIENTS,
                "dashboard",
                "Aggregated statistics of the deployment",
                {200: _json(ref("Dashboard"), "Counts read from Redis; no job is scanned.")},
                (503,),
            )
        },
        **client_file_paths(),
    }
    for bp in blueprints:
        paths.setdefault(f"/api/{bp.api_version}/{bp.api_endpoint}", {})["post"] = (
            create_operation(bp)
        )
    return paths


def create_operation(bp: Blueprint | None) -> Operation:
    """``POST /api/{version}/{endpoint}``: generic, or the concrete path of one blueprint."""
    params: tuple[dict[str, Any], ...] = (
        header(
            "Idempotency-Key",
            {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
            "Same key and body from the same client: the same job, never a second one.",
        ),
    )
    if bp is None:
        op_id, summary = "create_job", "Start a job of the blueprint at this route"
        params = (
            path_param("version", "The blueprint's API version, e.g. `v1`."),
            path_param("endpoint", "The blueprint's endpoint (may hold `/`)."),
            *params,
        )
    else:
        op_id, summary = f"create_{bp.name}", f"Start a `{bp.name}` job"
    op = operation(
        CLIENTS,
        op_id,
        summary,
        {
            202: _json(ref("Accepted"), "The job is created and started."),
            200: _json(ref("Job"), "An `Idempotency-Key` seen before: the earlier job."),
        },
        (400, 404, 409, 429, 503),
        params=params,
        body=body("NewJob", required=False),
        description="404 `BLUEPRINT_NOT_FOUND` when no blueprint answers the route; 409 "
        "`IDEMPOTENCY_KEY_REUSED` for a key seen with another body.",
    )
    if bp is not None:
        op["x-blueprint"] = bp.name
    return op


def client_file_paths() -> Paths:
    files = "/api/v1/jobs/{job_id}/files"
    s3 = (404, 501, 503)
    return {
        files: {
            "get": operation(
                CLIENTS,
                "list_files",
                "A job's files",
                {200: _json(ref("FileList"), "Files stored for the job.")},
                s3,
                params=(JOB_ID,),
            )
        },
        f"{files}/upload": {
            "get": operation(
                CLIENTS,
                "upload_url",
                "A presigned S3 PUT link",
                {200: _json(ref("UploadLink"), "PUT the file's bytes to `url`.")},
                (400, *s3),
                params=(
                    JOB_ID,
                    query("filename", {"type": "string"}, "The file's name.", required=True),
                    EXPIRES,
                ),
            )
        },
        f"{files}/content/{{filename}}": {
            "put": operation(
                CLIENTS,
                "upload_file",
                "Upload a file, streamed to S3",
                {200: _json(ref("Uploaded"), "Stored.")},
                (400, 413, 429, *s3),
                params=(JOB_ID, FILENAME),
                body=_octets(),
            )
        },
        f"{files}/download/{{filename}}": {
            "get": operation(
                CLIENTS,
                "download_file",
                "Redirect to a fresh presigned S3 GET link",
                {302: _redirect()},
                (400, *s3),
                params=(JOB_ID, FILENAME, EXPIRES),
            )
        },
    }


def _octets() -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
        },
    }


def _redirect() -> dict[str, Any]:
    return {
        "description": "`Location` is a presigned GET link.",
        "headers": {"Location": {"schema": {"type": "string"}, "required": True}},
    }


def worker_paths() -> Paths:
    held = (X_WORKER_ID, query("worker_id", {"type": "string"}, "As `X-Worker-Id`."))
    files = "/_worker/jobs/{job_id}/files"
    return {
        "/_worker/workers/register": {
            "post": operation(
                WORKERS,
                "register_worker",
                "Register a worker and its skills",
                {200: _json(ref("Registered"), "Registered; the answer has the timings.")},
                (400, 403, 503),
                body=body("Registration"),
            )
        },
        "/_worker/workers/{worker_id}": {
            "patch": operation(
                WORKERS,
                "heartbeat",
                "Heartbeat: refresh the TTL, optionally update load or skills",
                {200: _json(ref("HeartbeatAnswer"), "TTL refreshed.")},
                (400, 403, 404, 503),
                params=(WORKER_ID,),
                body=body("Heartbeat", required=False),
                description="404 `WORKER_NOT_REGISTERED`: register again.",
            )
        },
        "/_worker/workers/{worker_id}/tasks/next": {
            "get": operation(
                WORKERS,
                "next_task",
                "Long-poll for the next task",
                {
                    200: _json(ref("Task"), "A task, leased to this worker."),
                    204: {"description": "The wait ended with no task."},
                },
                (400, 403, 404, 503),
                params=(
                    WORKER_ID,
                    query(
                        "timeout",
                        {"type": "number", "minimum": 0},
                        "Longest wait in seconds (capped by the server's poll timeout).",
                    ),
                ),
            )
        },
        "/_worker/tasks/result": {
            "post": operation(
                WORKERS,
                "task_result",
                "Report a task's result",
                {200: _json(ref("ResultAnswer"), "Accepted (a repeat gets the same answer).")},
                (400, 403, 409, 503),
                body=body("TaskResult"),
                description="409 `TASK_NOT_HELD` when the worker does not hold the task.",
            )
        },
        "/_worker/ws/{worker_id}": {
            "get": operation(
                WORKERS,
                "commands",
                "WebSocket of commands to the worker (`cancel_task`)",
                {101: {"description": "Switching to the WebSocket protocol."}},
                (400, 403),
                params=(WORKER_ID,),
                description="A plain GET, without the WebSocket upgrade, is refused with 400.",
            )
        },
        f"{files}/content/{{filename}}": {
            "put": operation(
                WORKERS,
                "worker_upload_file",
                "Upload an output file of the job whose task this worker holds",
                {200: _json(ref("Uploaded"), "Stored.")},
                (400, 403, 404, 409, 413, 501, 503),
                params=(JOB_ID, FILENAME, *held),
                body=_octets(),
            )
        },
        f"{files}/download/{{filename}}": {
            "get": operation(
                WORKERS,
                "worker_download_file",
                "Redirect to a fresh presigned S3 GET link of one of the job's files",
                {302: _redirect()},
                (400, 403, 404, 409, 501, 503),
                params=(JOB_ID, FILENAME, *held, EXPIRES),
            )
        },
    }

