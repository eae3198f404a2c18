"""The answers about jobs: a job, a page of jobs, its history and event stream, its files."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, UnsetType

from orchestrator.api.answers import Answer, Time
from orchestrator.engine.model import JobStatus, TaskStatus

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


class StreamedEvent(Answer):
    """One Server-Sent Event (OpenAPI 3.1 describes each event of a stream)."""

    id: Annotated[str, Meta(pattern="^[0-9]+$", description="The event's `id`.")]
    event: Annotated[str, Meta(description="The event's `type`.")]
    data: Annotated[
        str,
        Meta(
            extra_json_schema={
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": "#/components/schemas/Event"},
            }
        ),
    ]


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


JOB_ANSWERS = (Job, JobPage, Event, StreamedEvent, FileList, UploadLink, Uploaded)
