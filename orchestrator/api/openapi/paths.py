"""The /_public and /api operations of the OpenAPI document (``openapi_worker_paths.py`` has
/_worker), route by route, with the statuses each handler and the middleware in front of it
really answer: the rate limit's 429 on /api writes, 503 when Redis does not answer.
``tests/openapi/test_routes_match.py`` keeps these and the app's routes the same.
"""

from __future__ import annotations

from typing import Any

from orchestrator.api.jobs import MAX_WAIT_S
from orchestrator.api.openapi.jobs import download_through, download_via, job_search_params
from orchestrator.api.openapi.operations import (
    CLIENTS,
    FILENAME,
    FILENAME_RULE,
    FILENAME_SCHEMA,
    JOB_ID,
    JOB_VIEW,
    PUBLIC,
    Operation,
    Paths,
    body,
    expires,
    header,
    json_body,
    octets,
    operation,
    path_param,
    query,
    redirect,
    text_body,
)
from orchestrator.api.openapi.schemas import ref
from orchestrator.api.openapi.worker_paths import DRAINING
from orchestrator.api.schemas import IDEMPOTENCY_KEY
from orchestrator.blueprint.dsl import Blueprint
from orchestrator.config import Settings
from orchestrator.engine.model import JobStatus


def public_paths(settings: Settings) -> Paths:
    paths: Paths = {
        "/_public/status": {
            "get": operation(
                PUBLIC,
                "status",
                "Liveness, including storage",
                {
                    200: json_body(ref("StatusOk"), "Up, and storage answers."),
                    503: json_body(ref("StatusDown"), "Storage does not answer."),
                },
            )
        },
        "/_public/metrics": {
            "get": operation(
                PUBLIC,
                "metrics",
                "Prometheus metrics",
                {200: text_body("text/plain", "Prometheus text exposition format.")},
            )
        },
        "/_public/webhooks/approval/{job_id}": {
            "post": operation(
                PUBLIC,
                "approve",
                "A person's decision on a job waiting for one",
                {200: json_body(ref("ApprovalReceived"), "Decision taken; the job moves on.")},
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
                PUBLIC,
                "openapi",
                "This document",
                {200: json_body({"type": "object"}, "OpenAPI 3.1")},
            )
        },
        "/_public/docs": {
            "get": operation(
                PUBLIC,
                "docs",
                "Interactive documentation (works offline)",
                {200: text_body("text/html", "An HTML page that reads this document.")},
            )
        },
    }
    if settings.dev_mode:
        paths["/_public/debug/flush_db"] = {
            "post": operation(
                PUBLIC,
                "flush_db",
                "Delete this deployment's keys (dev mode only)",
                {200: json_body(ref("Flushed"), "Keys under this deployment's prefix deleted.")},
                (503,),
                description="Exists only when the server runs in dev mode (404 otherwise).",
            )
        }
    return paths


def client_paths(blueprints: list[Blueprint], settings: Settings) -> Paths:
    paths: Paths = {
        "/api/{version}/{endpoint}": {"post": create_operation(None)},
        "/api/v1/jobs": {
            "get": operation(
                CLIENTS,
                "list_jobs",
                "This client's jobs, newest first",
                {200: json_body(ref("JobPage"), "One page of jobs.")},
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
                    *job_search_params(),
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
                        f"Wait up to this many seconds (at most {MAX_WAIT_S:g}) for the job to end "
                        "first.",
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
                {200: json_body(ref("Cancelled"), "The job is cancelled.")},
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
                {200: json_body({"type": "array", "items": ref("Event")}, "Every event so far.")},
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
                {200: json_body({"type": "array", "items": ref("Blueprint")}, "Every blueprint.")},
            )
        },
        "/api/v1/blueprints/{name}/graph": {
            "get": operation(
                CLIENTS,
                "blueprint_graph",
                "A blueprint's states and transitions as DOT",
                {200: text_body("text/vnd.graphviz", "Graphviz DOT source.")},
                (404,),
                params=(path_param("name", "The blueprint's name."),),
            )
        },
        "/api/v1/workers": {
            "get": operation(
                CLIENTS,
                "list_workers",
                "Live workers",
                {200: json_body({"type": "array", "items": ref("Worker")}, "Workers seen lately.")},
                (503,),
            )
        },
        "/api/v1/workers/{worker_id}/drain": {
            "post": operation(
                CLIENTS,
                "drain_worker",
                "Drain a worker: no new tasks; it finishes or hands back its own, then leaves",
                {202: DRAINING},
                (403, 404, 503),
                params=(path_param("worker_id", "A live worker's id."),),
                description=(
                    "Needs a client with `can_manage_workers` (403 "
                    "`WORKER_MANAGEMENT_FORBIDDEN` otherwise); 404 `WORKER_NOT_FOUND` when no "
                    "worker of that id is live. The worker gets no task from now on (its "
                    "long-polls are refused with 409 `WORKER_DRAINING`), is told over its "
                    "WebSocket and in its next heartbeat answer, finishes or hands back what it "
                    "holds within its grace period, and deregisters."
                ),
            )
        },
        "/api/v1/dashboard": {
            "get": operation(
                CLIENTS,
                "dashboard",
                "Aggregated statistics of the deployment",
                {200: json_body(ref("Dashboard"), "Counts read from Redis; no job is scanned.")},
                (503,),
            )
        },
        **client_file_paths(settings),
    }
    for bp in blueprints:
        paths.setdefault(f"/api/{bp.api_version}/{bp.api_endpoint}", {})["post"] = create_operation(
            bp
        )
    return paths


def create_operation(bp: Blueprint | None) -> Operation:
    """``POST /api/{version}/{endpoint}``: generic, or the concrete path of one blueprint."""
    params: tuple[dict[str, Any], ...] = (
        header(
            "Idempotency-Key",
            {"type": "string", "pattern": IDEMPOTENCY_KEY.pattern},
            "1-255 visible ASCII characters (inner spaces allowed). The same key and body from "
            "the same client: the same job, never a second one.",
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
            202: json_body(ref("Accepted"), "The job is created and started."),
            200: json_body(ref("Job"), "An `Idempotency-Key` seen before: the earlier job."),
            410: json_body(ref("Error"), "`BLUEPRINT_RETIRED`: a retired blueprint's route."),
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


def client_file_paths(settings: Settings) -> Paths:
    files = "/api/v1/jobs/{job_id}/files"
    s3 = (404, 501, 503)
    return {
        files: {
            "get": operation(
                CLIENTS,
                "list_files",
                "A job's files",
                {200: json_body(ref("FileList"), "Files stored for the job.")},
                s3,
                params=(JOB_ID,),
            )
        },
        f"{files}/upload": {
            "get": operation(
                CLIENTS,
                "upload_url",
                "A presigned S3 PUT link",
                {200: json_body(ref("UploadLink"), "PUT the file's bytes to `url`.")},
                (400, *s3),
                params=(
                    JOB_ID,
                    query("filename", FILENAME_SCHEMA, FILENAME_RULE, required=True),
                    expires(settings),
                ),
            )
        },
        f"{files}/content/{{filename}}": {
            "put": operation(
                CLIENTS,
                "upload_file",
                "Upload a file, streamed to S3",
                {200: json_body(ref("Uploaded"), "Stored.")},
                (400, 413, 429, *s3),
                params=(JOB_ID, FILENAME),
                body=octets(),
            )
        },
        f"{files}/download/{{filename}}": {
            "get": operation(
                CLIENTS,
                "download_file",
                "Redirect to a fresh presigned S3 GET link, or (via=orchestrator) the bytes",
                {200: download_through(), 302: redirect()},
                (400, *s3),
                params=(JOB_ID, FILENAME, expires(settings), download_via()),
            )
        },
    }
