"""Every route of the app as an OpenAPI operation, one row each: route, id, summary, answers,
and the statuses the rules of ``operations.py`` do not add (they add 401, 403 on /_worker,
400/413 with a body, 404 on a job's route, 429 on /api writes, 501 on files, 503 with
storage). Query parameters come from the handlers' query Structs, bodies from ``schemas.py``;
``NOTES`` say what a summary cannot. ``declared.py`` has the routes blueprints declare;
``tests/openapi/test_routes_match.py`` keeps this table and the app's routes the same.
"""

from __future__ import annotations

from typing import Any

from orchestrator.api.answers.human import STREAM_ID
from orchestrator.api.events import EventsQuery
from orchestrator.api.files import DownloadQuery, LinkQuery, UploadQuery
from orchestrator.api.human_bodies import InboxQuery
from orchestrator.api.human_events import InboxEventsQuery
from orchestrator.api.job_list import ListQuery
from orchestrator.api.jobs import JobQuery
from orchestrator.api.openapi.operations import (
    Operation,
    Paths,
    body,
    header,
    reply,
    table,
)
from orchestrator.api.openapi.operations import operation as op
from orchestrator.api.openapi.schemas import ref
from orchestrator.api.registration import BlueprintQuery
from orchestrator.api.schemas import IDEMPOTENCY_KEY, anchored
from orchestrator.api.workers import PollQuery
from orchestrator.blueprint.dsl import Blueprint
from orchestrator.config import Settings


def _text(media: str, description: str) -> dict[str, Any]:
    return reply({"type": "string"}, description, media)


def _list(name: str, description: str) -> dict[str, Any]:
    return reply({"type": "array", "items": ref(name)}, description)


_BYTES = {"type": "string", "format": "binary"}
_OCTETS = "application/octet-stream"
_JOB = reply("Job", "The job.")
_DRAINING = reply("Draining", "Draining (the same answer to a second drain).")
_REDIRECT = {
    "description": "`Location` is a presigned GET link.",
    "headers": {"Location": {"schema": {"type": "string"}, "required": True}},
}
_THROUGH = reply(
    _BYTES, "With via=orchestrator: the file's bytes, as an attachment to save.", _OCTETS
)
_FILE = {
    "description": "The file's bytes; no body stores an empty file.",
    "required": False,
    "content": {_OCTETS: {"schema": _BYTES}},
}
_BLUEPRINT = {
    "required": True,
    "content": {
        "application/json": {"schema": {"anyOf": [ref("Workflow"), ref("YamlBlueprint")]}},
        "application/yaml": {"schema": {"type": "string"}},
    },
}
_SAVED = reply("RegisteredBlueprint", "This content is current already: nothing new.")
_STREAM = {"type": "string", "pattern": STREAM_ID}
_HELD_BY = header(
    "X-Worker-Id",
    {"type": "string", "minLength": 1},
    "The id of the worker holding the job's task.",
    required=True,
)
_APPROVAL = header(
    "X-Approval-Token", {"type": "string"}, "The job's `approval.token` (or `token` in the body)."
)
_HANDSHAKE = tuple(  # what a client library sends (RFC 6455 4.1)
    header(name, {"type": "string", "enum": [value]}, "RFC 6455.", required=True)
    for name, value in (
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
    )
) + (
    header(
        "Sec-WebSocket-Key",
        {"type": "string", "pattern": anchored("[A-Za-z0-9+/]{22}==")},
        "16 random bytes in base64 (RFC 6455).",
        required=True,
    ),
)


_RESUME = "Resume after this event id."
_LEASED = reply(
    {"oneOf": [ref("Task"), ref("TaskBatch")]},
    "Leased to this worker: a `Task` without `max` (or with `max=1`), else a `TaskBatch` of 1 "
    "to `max` tasks.",
)


def _sse(schema: str, description: str) -> dict[str, Any]:
    return reply(schema, description, "text/event-stream")


def paths(settings: Settings, blueprints: list[Blueprint]) -> Paths:
    longest = settings.s3.max_expires_s
    bounds = {
        "expires_in": {
            "maximum": longest,
            "description": f"Link validity in seconds (1-{longest}).",
        }
    }
    files, held = "/api/v1/jobs/{job_id}/files", "/_worker/jobs/{job_id}/files"
    # fmt: off
    rows = [
        # -- /_public: no token ---------------------------------------------------------------
        op("GET /_public/status", "status", "Liveness, including storage",
           {200: reply("StatusOk", "Up, and storage answers."),
            503: reply("StatusDown", "Storage does not answer.")}),
        op("GET /_public/metrics", "metrics", "Prometheus metrics",
           {200: _text("text/plain", "Prometheus text exposition format.")}, storage=False),
        op("POST /_public/webhooks/approval/{job_id}", "approve",
           "A person's decision on a job waiting for one",
           {200: reply("ApprovalReceived", "Decision taken; the job moves on.")}, (403, 409),
           params=(_APPROVAL,), body=body("Approval")),
        op("GET /_public/openapi.json", "openapi", "This document",
           {200: reply({"type": "object"}, "OpenAPI 3.1")}, storage=False),
        op("GET /_public/docs", "docs", "Interactive documentation (works offline)",
           {200: _text("text/html", "An HTML page that reads this document.")}, storage=False),
        # -- /api: client systems -------------------------------------------------------------
        create_operation(None),
        *(create_operation(bp) for bp in blueprints),
        op("GET /api/v1/jobs", "list_jobs", "This client's jobs, newest first",
           {200: reply("JobPage", "One page of jobs.")}, (400,), query=ListQuery),
        op("GET /api/v1/jobs/{job_id}", "get_job", "A job's status",
           {200: _JOB}, (400,), query=JobQuery),
        op("POST /api/v1/jobs/{job_id}/cancel", "cancel_job", "Cancel a job",
           {200: reply("Cancelled", "The job is cancelled.")}, (409,)),
        op("POST /api/v1/jobs/{job_id}/retry", "retry_job",
           "Resume a failed or quarantined job from the state that failed", {200: _JOB}, (409,)),
        op("GET /api/v1/jobs/{job_id}/history", "job_history", "A job's events, in order",
           {200: _list("Event", "Every event so far.")}),
        op("GET /api/v1/jobs/{job_id}/events", "job_events", "A job's events as Server-Sent Events",
           {200: _sse("StreamedEvent", "One SSE event per history event: `id`, `event` (its "
                      "type) and `data` (the event as JSON).")}, (400,),
           params=(header("Last-Event-ID", {"type": "integer"}, _RESUME),), query=EventsQuery),
        op(f"GET {files}", "list_files", "A job's files",
           {200: reply("FileList", "Files stored for the job.")}),
        op(f"GET {files}/upload", "upload_url", "A presigned S3 PUT link",
           {200: reply("UploadLink", "PUT the file's bytes to `url`.")}, (400,),
           query=UploadQuery, bounds=bounds),
        op(f"PUT {files}/content/{{filename}}", "upload_file", "Upload a file, streamed to S3",
           {200: reply("Uploaded", "Stored.")}, body=_FILE),
        op(f"GET {files}/download/{{filename}}", "download_file",
           "Redirect to a fresh presigned S3 GET link, or (via=orchestrator) the bytes",
           {200: _THROUGH, 302: _REDIRECT}, (400,), query=DownloadQuery, bounds=bounds),
        op("GET /api/v1/blueprints", "list_blueprints", "Blueprints served here",
           {200: _list("Blueprint", "Every blueprint.")}, storage=False),
        op("POST /api/v1/blueprints", "register_blueprint",
           "Register a YAML blueprint or a seed-003 workflow",
           {201: _saved("Stored in Redis"), 200: _SAVED}, (403, 409), body=_BLUEPRINT),
        op("GET /api/v1/blueprints/{name}", "describe_blueprint",
           "A blueprint's definition, versions and graph",
           {200: reply("BlueprintDetail", "`?version=` picks an earlier one.")}, (404,),
           query=BlueprintQuery),
        op("PUT /api/v1/blueprints/{name}", "replace_blueprint",
           "Register a new version; running jobs keep theirs",
           {201: _saved("The new version is current"), 200: _SAVED}, (403, 404),
           body=_BLUEPRINT),
        op("DELETE /api/v1/blueprints/{name}", "retire_blueprint",
           "Retire a registered blueprint: no new jobs, running ones finish",
           {200: reply("BlueprintRetired", "New jobs now get 410.")}, (403, 404, 409)),
        op("GET /api/v1/blueprints/{name}/graph", "blueprint_graph",
           "A blueprint's states and transitions as DOT",
           {200: _text("text/vnd.graphviz", "Graphviz DOT source.")}, (404,), storage=False),
        op("GET /api/v1/workers", "list_workers", "Live workers",
           {200: _list("Worker", "Workers seen lately.")}),
        op("POST /api/v1/workers/{worker_id}/drain", "drain_worker",
           "Drain a worker: no new tasks; it finishes or hands back its own, then leaves",
           {202: _DRAINING}, (403, 404)),
        op("GET /api/v1/dashboard", "dashboard", "Aggregated statistics of the deployment",
           {200: reply("Dashboard", "Counts read from Redis; no job is scanned.")}),
        op("POST /api/v1/jobs/{job_id}/decision", "decide",
           "Decide a waiting human step for one of the client's people",
           {200: reply("DecisionRecorded", "Done.")}, (403, 409), body=body("Decision")),
        op("POST /api/v1/jobs/{job_id}/assignment", "reassign",
           "Move a waiting human step to another role and/or person",
           {200: reply("Reassigned", "Done.")}, (403, 409), body=body("Assignment")),
        op("POST /api/v1/jobs/{job_id}/escalation", "escalate",
           "Go to the step's next escalation level now",
           {200: reply("Escalated", "Done.")}, (403, 409), body=body("Escalation", False)),
        op("GET /api/v1/human-tasks", "human_tasks",
           "The client's waiting human steps, by due time then age",
           {200: reply("HumanTaskPage", "One page; follow `next_cursor` (or `next`).")}, (400,),
           query=InboxQuery),
        op("GET /api/v1/human-tasks/events", "human_task_events",
           "The client's inbox changes as Server-Sent Events",
           {200: _sse("InboxEvent", "`added`, `updated`, `removed` (and `reset` when the resume "
                      "point is gone): `id` is the stream entry id.")}, (400,),
           params=(header("Last-Event-ID", _STREAM, _RESUME),), query=InboxEventsQuery),
        op("GET /api/v1/tickets/{job_id}", "ticket",
           "A ticket: the step it waits in and the numbered transitions out of it (seed 003)",
           {200: reply("Ticket", "The ticket.")}),
        op("POST /api/v1/tickets/{job_id}/transition", "ticket_transition",
           "Move a ticket along an edge out of its current step (seed 003)",
           {200: reply("TicketTransitioned", "Moved; where it is now.")}, (403, 409),
           body=body("TicketTransition")),
        # -- /_worker: workers ----------------------------------------------------------------
        op("POST /_worker/workers/register", "register_worker", "Register a worker and its skills",
           {200: reply("Registered", "Registered; the answer has the timings.")},
           body=body("Registration")),
        op("PATCH /_worker/workers/{worker_id}", "heartbeat",
           "Heartbeat: refresh the TTL, optionally update load or skills",
           {200: reply("HeartbeatAnswer", "TTL refreshed.")}, (404,),
           body=body("Heartbeat", False)),
        op("DELETE /_worker/workers/{worker_id}", "deregister_worker",
           "Deregister: the worker stopped",
           {204: {"description": "Forgotten (an unknown worker gets the same answer)."}}),
        op("POST /_worker/workers/{worker_id}/drain", "announce_draining",
           "A worker stopping on its own (SIGTERM) drains: no new tasks from now on",
           {202: _DRAINING}, (404,)),
        op("GET /_worker/workers/{worker_id}/tasks/next", "next_task",
           "Long-poll for the next task (or several)",
           {200: _LEASED, 204: {"description": "The wait ended with no task."}}, (400, 404, 409),
           query=PollQuery),
        op("POST /_worker/tasks/result", "task_result", "Report a task's result",
           {200: reply("ResultAnswer", "Accepted (a repeat gets the same answer).")}, (409,),
           body=body("TaskResult")),
        op("POST /_worker/tasks/decline", "decline_task",
           "Decline a task this worker was given and will not run",
           {200: reply("DeclineAnswer", "Released: queued again, same attempt.")}, (409,),
           body=body("TaskDecline")),
        op("POST /_worker/tasks/progress", "report_progress",
           "Report how far a task this worker runs got",
           {200: reply("ProgressAnswer", "Recorded as a `task_progress` event, or dropped: it "
                       "came less than 0.2 s after the attempt's previous one.")}, (409,),
           body=body("TaskProgress")),
        op("GET /_worker/ws/{worker_id}", "commands",
           "WebSocket of commands to the worker (`cancel_task`, `drain_worker`) and of its task "
           "results",
           {101: {"description": "Switching to the WebSocket protocol."}}, (400,),
           params=_HANDSHAKE, storage=False),
        op(f"PUT {held}/content/{{filename}}", "worker_upload_file",
           "Upload an output file of the job whose task this worker holds",
           {200: reply("Uploaded", "Stored.")}, (409,), params=(_HELD_BY,), body=_FILE),
        op(f"GET {held}/download/{{filename}}", "worker_download_file",
           "Redirect to a fresh presigned S3 GET link of one of the job's files",
           {302: _REDIRECT}, (400, 409), params=(_HELD_BY,), query=LinkQuery, bounds=bounds),
    ]
    # fmt: on
    if settings.dev_mode:
        flushed = reply("Flushed", "Keys under this deployment's prefix deleted.")
        summary = "Delete this deployment's keys (dev mode only)"
        rows.append(op("POST /_public/debug/flush_db", "flush_db", summary, {200: flushed}))
    return table(*rows, notes=NOTES)


def _saved(what: str) -> dict[str, Any]:
    return reply("RegisteredBlueprint", f"{what}; every process serves it within 1 s.")


def create_operation(bp: Blueprint | None) -> tuple[str, str, Operation]:
    """``POST /api/{version}/{endpoint}``: generic, or the concrete path of one blueprint."""
    route = "POST /api/{version}/{endpoint}"
    op_id, summary = "create_job", "Start a job of the blueprint at this route"
    if bp is not None:
        route = f"POST /api/{bp.api_version}/{bp.api_endpoint}"
        op_id, summary = f"create_{bp.name}", f"Start a `{bp.name}` job"
    path, method, operation = op(
        route,
        op_id,
        summary,
        {
            202: reply("Accepted", "The job is created and started."),
            200: reply("Job", "An `Idempotency-Key` seen before: the earlier job."),
            410: reply("Error", "`BLUEPRINT_RETIRED`: a retired blueprint's route."),
        },
        (404, 409),
        params=(
            header(
                "Idempotency-Key",
                {"type": "string", "pattern": IDEMPOTENCY_KEY.pattern},
                "1-255 visible ASCII characters (inner spaces allowed). The same key and body "
                "from the same client: the same job, never a second one.",
            ),
        ),
        body=body("NewJob", required=False),
    )
    operation["description"] = NOTES["create_job"]
    if bp is not None:
        operation["x-blueprint"] = bp.name
    return path, method, operation


_INVALID_BLUEPRINT = (
    "400 `BLUEPRINT_INVALID`: `details.problems` lists every problem, each with a `path` into "
    "the document (e.g. `graph.nodes[2].temp_id`) and a `message`. 403 "
    "`BLUEPRINT_MANAGEMENT_FORBIDDEN` unless the client has `can_manage_blueprints`."
)

NOTES = {
    "approve": "400 `INVALID_DECISION` lists the allowed decisions; 409 `NOT_WAITING_FOR_HUMAN` "
    "names the job's status; 403 without the job's approval token for this wait.",
    "flush_db": "Exists only when the server runs in dev mode (404 otherwise).",
    "create_job": "404 `BLUEPRINT_NOT_FOUND` when no blueprint answers the route; 409 "
    "`IDEMPOTENCY_KEY_REUSED` for a key seen with another body.",
    "get_job": "404 also for another client's job.",
    "cancel_job": "`cancellation_request_sent`: the worker holding the task got a `cancel_task` "
    "command on its WebSocket; `cancellation_request_accepted`: it sees the cancel on its next "
    "heartbeat. 409 `JOB_ALREADY_TERMINAL`.",
    "job_events": "Sends the events after `Last-Event-ID`, then new ones as they happen; ends "
    "after the terminal event. A comment line every 15 s keeps proxies from closing it.",
    "register_blueprint": f"{_INVALID_BLUEPRINT} 409 `BLUEPRINT_EXISTS` when the name is "
    "registered with other content: PUT a new version instead.",
    "replace_blueprint": f"{_INVALID_BLUEPRINT} 404 when the name was never registered.",
    "retire_blueprint": "409 `BLUEPRINT_NOT_REGISTERED` for a code-defined blueprint.",
    "drain_worker": "Needs a client with `can_manage_workers` (403 `WORKER_MANAGEMENT_FORBIDDEN` "
    "otherwise); 404 `WORKER_NOT_FOUND` when no worker of that id is live. The worker gets no "
    "task from now on (its long-polls are refused with 409 `WORKER_DRAINING`), is told over its "
    "WebSocket and in its next heartbeat answer, finishes or hands back what it holds within "
    "its grace period, and deregisters.",
    "decide": "400 `INVALID_DECISION` lists the allowed decisions, `VALIDATION_ERROR` names the "
    "field; 403 `ROLE_MISMATCH`; 404 also for another client's job; 409 `NOT_WAITING_FOR_HUMAN` "
    "(details: `status`, `state`, `decision` with who and when), `STEP_CHANGED` or "
    "`BLUEPRINT_CHANGED`.",
    "reassign": "409 `NOT_WAITING_FOR_HUMAN` when the job waits for no person.",
    "escalate": "409 `NO_ESCALATION_LEFT` or `NOT_WAITING_FOR_HUMAN`.",
    "ticket": "`transitions` numbers the edges out of the current step as `transition_id` "
    "takes them. 404 `JOB_NOT_FOUND`, or `TICKET_NOT_FOUND` for a job of no workflow.",
    "ticket_transition": "Give `transition` (the edge's name) or `transition_id` (its number "
    "in the ticket's `transitions`). 400 `INVALID_TRANSITION` lists the edges out of the step "
    "(`details.allowed`, and `allowed_ids` for a number), `VALIDATION_ERROR` names the field "
    "(neither or both given); 403 `ROLE_MISMATCH`; 404 `JOB_NOT_FOUND`, or `TICKET_NOT_FOUND` "
    "for a job of no workflow; 409 `NOT_WAITING_FOR_HUMAN` (closed, or decided meanwhile), "
    "`STEP_CHANGED` (a number read against a step the ticket has left).",
    "human_tasks": "Pages by `cursor` (`limit`, `next_cursor`) or by number (`page`, "
    "`page_size` up to 100: the answer adds `count`, `next`, `previous`); one or the other, "
    "400 `VALIDATION_ERROR` for both. A numbered page reads the inbox from its start to "
    "count it (up to 10,000 entries).",
    "heartbeat": "404 `WORKER_NOT_REGISTERED`: register again.",
    "deregister_worker": "The worker leaves `GET /api/v1/workers` at once rather than when its "
    "heartbeats stop counting; a drain of it ends.",
    "announce_draining": "As `POST /api/v1/workers/{worker_id}/drain` does for an operator. 404 "
    "`WORKER_NOT_REGISTERED`: the orchestrator does not know the worker.",
    "task_result": "409 `TASK_NOT_HELD` when the worker does not hold the task, or the `attempt` "
    "it names is not the one the job waits for.",
    "decline_task": "The task goes back to its queue at once instead of when its lease runs out. "
    "409 `TASK_NOT_HELD` when the worker does not hold that attempt (a repeated decline "
    "included).",
    "report_progress": "The job's history and SSE stream get a `task_progress` event, and `GET "
    "/api/v1/jobs/{job_id}` shows the latest as `task.progress`. 409 `TASK_NOT_HELD` when the "
    "worker does not hold that attempt.",
    "commands": 'The orchestrator first sends `{"type": "hello", "accepts": ["result"], '
    '"max_message_bytes"}`, then `{"type": "cancel_task", "job_id", "task_id", "attempt"}`: '
    'stop that attempt, and no other attempt of the task; `{"type": "drain_worker"}`: an '
    'operator drained the worker. The worker may send `{"type": "result", "id": <integer>, '
    '"body": <the body of POST /_worker/tasks/result>}`, answered `{"type": "result_ack", '
    '"id", "status"}` or `{"type": "result_error", "id", "http_status", "code", "message", '
    '"details"}`: what the POST would have answered. A GET without the WebSocket handshake is '
    "refused with 400 `WEBSOCKET_HANDSHAKE_REQUIRED`.",
}
"""What an operation's summary cannot say, by operation id."""
