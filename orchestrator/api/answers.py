"""The bodies the client API answers with, typed once: the OpenAPI document's answer
components are generated from these Structs (``openapi/answers.py``), and the handlers
answer with them or with dicts of the same fields. The worker's answers are in
``worker_sdk.protocol``, where the SDK reads them.

Answers list the fields a client can rely on and allow more (no ``forbid_unknown_fields``),
so that a new field is not a breaking change. A field that is sometimes left out is
``UNSET`` by default; every other one is always there (``null`` where its type says so).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from orchestrator.engine.model import JobStatus, TaskStatus
from orchestrator.error_codes import CODES
from worker_sdk.protocol import Labels

Time = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]
Counts = dict[str, int]


class Answer(Struct):
    """The body of an answer: required fields first, then those that may be left out."""


# -- errors -------------------------------------------------------------------------------------


class ErrorDetail(Answer, forbid_unknown_fields=True):
    code: Annotated[
        str,
        Meta(
            pattern="^[A-Z0-9_]+$",
            description=f"One of {', '.join(sorted(CODES))} (docs/api.md has each one's status "
            "and meaning), or `HTTP_<status>` for a refusal of aiohttp's.",
            examples=["JOB_NOT_FOUND"],
        ),
    ]
    message: str
    details: Annotated[
        dict[str, Any],
        Meta(
            description="What the code needs, e.g. `field` for a 400, `allowed` for a refused "
            "decision, `status` for a 409, `retry_after_s` for a 429."
        ),
    ]


class Error(Answer):
    """Every error answer. `code` is stable; `message` is for people."""

    error: ErrorDetail


# -- status and small acknowledgements ----------------------------------------------------------


class StatusOk(Answer):
    status: Literal["ok"]
    parked_polls: (
        Annotated[int, Meta(description="Worker long-polls waiting here.")] | UnsetType
    ) = UNSET


class StatusDown(Answer):
    status: Literal["unavailable"]
    error: ErrorDetail


class ApprovalReceived(Answer):
    status: Literal["approval_received"]
    job_id: str


class Flushed(Answer):
    status: Literal["db_flushed"]
    deleted: int | UnsetType = UNSET


class Accepted(Answer):
    status: Literal["accepted"]
    job_id: str


class Cancelled(Answer):
    status: Literal["cancellation_request_sent", "cancellation_request_accepted"]
    job_id: str


class Draining(Answer):
    """The answer to a drain, the operator's or the worker's own."""

    worker_id: str
    status: Literal["draining"]


# -- jobs ---------------------------------------------------------------------------------------


class Progress(Answer):
    fraction: Annotated[float, Meta(ge=0, le=1)] | None
    message: str | None
    data: dict[str, Any] | None
    at: Time


class JobTask(Answer):
    """The task the job waits on."""

    task_id: str
    task_type: str
    status: TaskStatus
    attempt: int
    worker_id: str | None
    progress: Annotated[
        Progress | None,
        Meta(description="The latest `ctx.progress` report of this attempt, or null."),
    ]


class JobApproval(Answer):
    """Present while the job waits for a person."""

    state: str
    decisions: list[str]
    token: str | None
    expires_at: Time | None
    url: str
    role: str | None
    assignee: str | None
    title: str | None
    due_at: Time | None


class Parallel(Answer):
    total: int
    pending: int
    aggregate_into: str


class Job(Answer):
    job_id: str
    blueprint: str
    blueprint_version: Annotated[str, Meta(description="Hash of the blueprint's code.")]
    status: JobStatus
    current_state: str
    created_at: Time
    updated_at: Time
    finished_at: Time | None
    result: Annotated[Any, Meta(description="What the end state returned (finished jobs).")]
    error: Annotated[dict[str, Any], Meta(description="`code` and `message` of a failure.")] | None
    task: JobTask | UnsetType = UNSET
    approval: JobApproval | UnsetType = UNSET
    parallel: Parallel | UnsetType = UNSET
    child_job_id: str | UnsetType = UNSET
    parent_job_id: str | UnsetType = UNSET
    initial_data: (
        Annotated[
            dict[str, Any],
            Meta(description="The job's input (a single job's answer, not the list's)."),
        ]
        | UnsetType
    ) = UNSET
    data: (
        Annotated[
            dict[str, Any],
            Meta(
                description="What its tasks returned, merged (later keys over earlier ones); a "
                "single job's answer, not the list's."
            ),
        ]
        | UnsetType
    ) = UNSET


class JobPage(Answer):
    jobs: list[Job]
    offset: int
    limit: int
    next_offset: Annotated[
        int | None,
        Meta(description="Pass as `offset` for the next page; null after the last one."),
    ]


class Event(Answer):
    """One history event; each type carries fields of its own."""

    id: Annotated[int, Meta(description="Position in the history, from 1.")]
    type: Annotated[str, Meta(examples=["job_created", "task_result", "job_finished"])]
    at: Annotated[float, Meta(description="Unix time, seconds.")]
    timestamp: Time


def _stream_data(schema: dict[str, Any]) -> Any:
    """An SSE event's ``data``: JSON text (OpenAPI 3.1 describes each event of a stream)."""
    extra = {"contentMediaType": "application/json", "contentSchema": schema}
    return Annotated[str, Meta(extra_json_schema=extra)]


class StreamedEvent(Answer):
    """One Server-Sent Event (OpenAPI 3.1 describes each event of a stream)."""

    id: Annotated[str, Meta(pattern="^[0-9]+$", description="The event's `id`.")]
    event: Annotated[str, Meta(description="The event's `type`.")]
    data: _stream_data({"$ref": "#/components/schemas/Event"})  # type: ignore[valid-type]


# -- files --------------------------------------------------------------------------------------


class StoredFile(Answer):
    filename: str | UnsetType = UNSET
    size: int | UnsetType = UNSET
    last_modified: str | UnsetType = UNSET
    download_url: str | UnsetType = UNSET


class FileList(Answer):
    job_id: str
    files: list[StoredFile]
    truncated: bool


class UploadLink(Answer):
    url: str
    expires_in: int
    method: Literal["PUT"]
    s3_uri: str | UnsetType = UNSET


class Uploaded(Answer):
    status: Literal["uploaded"]
    s3_uri: str
    filename: str | UnsetType = UNSET
    size: int | UnsetType = UNSET
    sha256: str | UnsetType = UNSET


# -- blueprints, workers, the dashboard ---------------------------------------------------------


class BlueprintRoute(Answer):
    kind: Literal["start", "action", "read"]
    method: str
    path: str


class Blueprint(Answer):
    name: str
    version: str
    endpoint: Annotated[str, Meta(examples=["/api/v1/greeting"])]
    states: list[str]
    start: str
    end: list[str]
    source: Literal["file", "registered"] | UnsetType = UNSET
    versions: list[str] | UnsetType = UNSET
    routes: (
        Annotated[
            list[BlueprintRoute],
            Meta(description="The routes the blueprint declares (docs/blueprints.md)."),
        ]
        | UnsetType
    ) = UNSET


class Worker(Answer):
    worker_id: str
    supported_skills: list[str]
    capacity: int
    load: int
    last_heartbeat: Time
    tags: list[str] | UnsetType = UNSET
    labels: Labels | UnsetType = UNSET
    draining: (
        Annotated[bool, Meta(description="Drained: no new tasks; it leaves soon.")] | UnsetType
    ) = UNSET
    registered_at: Time | None | UnsetType = UNSET


class Unroutable(Answer):
    task_type: str
    requires: Annotated[
        dict[str, Any], Meta(description='e.g. `{"tags": ["gpu"], "region": "eu"}`')
    ]
    queued: int


class WorkerCounts(Answer):
    active: int | UnsetType = UNSET
    busy: int | UnsetType = UNSET
    draining: Annotated[int, Meta(description="Active workers drained.")] | UnsetType = UNSET


class Finished(Answer):
    last_minute: int | UnsetType = UNSET
    last_hour: int | UnsetType = UNSET


class Dashboard(Answer):
    jobs: Annotated[
        dict[str, Counts], Meta(description="Non-terminal jobs: blueprint → status → count.")
    ]
    queues: Annotated[Counts, Meta(description="Queued tasks by task type.")]
    workers: WorkerCounts
    finished: Finished
    queue_oldest_s: (
        Annotated[
            dict[str, float | None],
            Meta(
                description="Seconds the oldest queued task of each task type has waited; null "
                "when its queue is empty."
            ),
        ]
        | UnsetType
    ) = UNSET
    unroutable: (
        Annotated[
            list[Unroutable],
            Meta(
                description="Queued tasks no live worker can take (no worker with the skill, or "
                "with the tags and labels of `requires`), per task type and requirement set. "
                "They wait."
            ),
        ]
        | UnsetType
    ) = UNSET
    finished_per_minute: (
        Annotated[
            list[int],
            Meta(
                min_length=60,
                max_length=60,
                description="Jobs that ended in each of the last 60 minutes, oldest first; the "
                "last is the minute under way.",
            ),
        ]
        | UnsetType
    ) = UNSET


class BlueprintGraph(Answer):
    start: str
    end: list[str]
    states: list[str]
    edges: list[list[str]]
    dot: Annotated[str, Meta(description="Graphviz DOT source.")]


class RegisteredBlueprint(Answer):
    name: str
    version: Annotated[str, Meta(description="Content hash, as for file blueprints.")]
    kind: Literal["yaml", "workflow"]
    changed: Annotated[bool, Meta(description="False: this content was current already.")]
    endpoint: Annotated[str, Meta(description="Where jobs (tickets) start: POST here.")]
    versions: list[str]
    graph: BlueprintGraph
    temp_id_mapping: (
        Annotated[dict[str, str], Meta(description="For a workflow: temp_id → the step it became.")]
        | UnsetType
    ) = UNSET
    nodes: list[dict[str, Any]] | UnsetType = UNSET


class BlueprintDetail(Answer):
    name: str
    source: Literal["file", "registered"]
    version: str
    endpoint: str
    versions: list[Any]
    graph: BlueprintGraph
    kind: Literal["yaml", "workflow"] | UnsetType = UNSET
    current: str | UnsetType = UNSET
    retired: bool | UnsetType = UNSET
    definition: (
        Annotated[dict[str, Any], Meta(description="The version's YAML (and workflow).")]
        | UnsetType
    ) = UNSET


class BlueprintRetired(Answer):
    name: str
    retired: Literal[True]
    changed: bool
    versions: list[str]


ANSWERS: tuple[type[Struct], ...] = (
    Error,
    StatusOk,
    StatusDown,
    ApprovalReceived,
    Flushed,
    Accepted,
    Job,
    JobPage,
    Cancelled,
    Event,
    StreamedEvent,
    Blueprint,
    Worker,
    Dashboard,
    FileList,
    UploadLink,
    Uploaded,
    Draining,
    BlueprintGraph,
    RegisteredBlueprint,
    BlueprintDetail,
    BlueprintRetired,
)
"""The answers of the client and public API (their nested Structs come with them)."""
