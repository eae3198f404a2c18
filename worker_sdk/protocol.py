"""The bodies a worker sends to the ``/_worker`` API, and the task it receives, typed once
for both sides.

The SDK builds its requests from these Structs; the orchestrator decodes and checks the same
requests with them (``orchestrator.api.schemas``) and generates the OpenAPI document's
schemas from them, so the three cannot drift. This module imports nothing of the
orchestrator: the SDK is installed on its own.

Counts are ``float`` with ``multiple_of=1``: JSON Schema counts ``611.0`` as an integer, and
the OpenAPI document promises JSON Schema, so an integral float is a count (the server turns
it into an ``int``); ``msgspec``'s ``int`` would refuse it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

__all__ = [
    "MAX_BATCH",
    "MAX_DECLINE_REASON",
    "MAX_INTEGER",
    "MAX_PROGRESS_DATA_BYTES",
    "MAX_PROGRESS_MESSAGE",
    "MAX_RETRY_AFTER_S",
    "NAME_PATTERN",
    "WORKER_ANSWERS",
    "CancelCommand",
    "CancelTask",
    "Command",
    "DrainCommand",
    "Hello",
    "Refused",
    "ResultAck",
    "ResultRefused",
    "DeclineAnswer",
    "Heartbeat",
    "HeartbeatAnswer",
    "ProgressAnswer",
    "Registered",
    "Registration",
    "ResultAnswer",
    "ResultError",
    "Task",
    "TaskBatch",
    "TaskDecline",
    "TaskProgress",
    "TaskResult",
    "wire",
]

MAX_INTEGER = 2**53 - 1
"""Largest integer a count may be: the last one every JSON reader holds exactly."""
MAX_BATCH = 64
"""Most tasks one long-poll may take (``?max=``)."""
MAX_DECLINE_REASON = 200
"""Characters of a decline's ``reason`` kept: it goes into the job's history."""
MAX_PROGRESS_MESSAGE = 200
"""Characters of a progress report's ``message``: it goes into the job's history."""
MAX_PROGRESS_DATA_BYTES = 4096
"""Encoded size of a report's ``data``: every report is kept in the history."""
MAX_RETRY_AFTER_S = 1e9
"""A retry delay must be below this: past it, it is a client bug, not a wish."""

NAME_PATTERN = r"^[A-Za-z0-9_.:\-]{1,128}$(?!\n)"
"""Worker ids and task types: they end up inside Redis keys. Python's ``$`` also matches
before a trailing newline: the lookahead refuses it, as ECMA-262 (JSON Schema) does."""


def _count(low: int, description: str | None = None) -> Meta:
    return Meta(ge=low, le=MAX_INTEGER, multiple_of=1, description=description)


Text = Annotated[str, Meta(min_length=1)]
Name = Annotated[str, Meta(pattern=NAME_PATTERN)]
Skills = Annotated[
    list[Name],
    Meta(min_length=1, description="Task types this worker handles (duplicates are dropped)."),
]
Labels = Annotated[
    dict[str, str],
    Meta(description="`key: value` labels a task's `requires` may ask for (`WORKER_LABELS`)."),
]
Attempt = Annotated[float, _count(1)]


class ResultError(Struct):
    """The `error` member of a result: set when the handler raised."""

    code: str = ""
    # Not checked by the server (a result must not be lost for its message); documented as text.
    message: Annotated[Any, Meta(extra_json_schema={"type": "string"})] = ""
    retryable: bool = False
    retry_after_s: (
        Annotated[
            float,
            Meta(
                ge=0,
                lt=MAX_RETRY_AFTER_S,
                description="With `retryable`: seconds to wait before the next attempt "
                "(`RetryLater(after=...)`), capped at the retry policy's `max_interval_s`; the "
                "attempt still counts. Null: the policy's backoff.",
            ),
        ]
        | None
        # The SDK leaves it out (rather than null) when the handler asked for no delay.
        | UnsetType
    ) = None


class TaskResult(Struct):
    """`POST /_worker/tasks/result`, or a `result` message on the worker's WebSocket."""

    job_id: Text
    task_id: Text
    worker_id: Text
    status: Annotated[
        str,
        Meta(
            min_length=1,
            description="`success`, `failure`, or a status the blueprint maps to a state.",
            examples=["success"],
        ),
    ]
    data: Annotated[dict[str, Any], Meta(description="The task's output.")] | None = None
    error: ResultError | None = None
    attempt: (
        Annotated[
            float,
            _count(
                1,
                "The attempt the worker ran (the task's `attempt`). The result counts only for "
                "that attempt: a stale one is refused with 409 and recorded as "
                "`result_dropped`. Without it, the result counts for the attempt the job waits "
                "for (seed 002's body has no attempt).",
            ),
        ]
        | None
    ) = None


class TaskDecline(Struct):
    """`POST /_worker/tasks/decline`: the worker will not run the attempt it was given."""

    job_id: Text
    task_id: Text
    worker_id: Text
    attempt: Annotated[float, _count(1, "The attempt the worker was given and will not run.")]
    reason: (
        Annotated[
            str, Meta(max_length=MAX_DECLINE_REASON, description="Why, for the job's history.")
        ]
        | None
    ) = None


class TaskProgress(Struct):
    """`POST /_worker/tasks/progress`: how far a running attempt got."""

    job_id: Text
    task_id: Text
    worker_id: Text
    attempt: Annotated[float, _count(1, "The attempt running; a report of another is refused.")]
    fraction: Annotated[float, Meta(ge=0, le=1)] | None = None
    message: Annotated[str, Meta(max_length=MAX_PROGRESS_MESSAGE)] | None = None
    data: (
        Annotated[
            dict[str, Any],
            Meta(description=f"JSON, at most {MAX_PROGRESS_DATA_BYTES} bytes encoded."),
        ]
        | None
    ) = None


class Registration(Struct):
    """`POST /_worker/workers/register`. Other fields are kept with the worker's record and
    shown by `GET /api/v1/workers`."""

    worker_id: Name
    supported_skills: Skills
    capacity: Annotated[float, _count(1)] = 1
    tags: list[str] = []
    labels: Labels = {}


class Heartbeat(Struct):
    """`PATCH /_worker/workers/{id}`: what changed since registering, every field optional.
    No body (or `null`) only refreshes the worker's TTL."""

    load: Annotated[float, _count(0, "Tasks running now.")] | UnsetType = UNSET
    running_tasks: list[str] | UnsetType = UNSET
    supported_skills: Skills | UnsetType = UNSET
    capacity: Annotated[float, _count(1)] | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    labels: Labels | UnsetType = UNSET


class Task(Struct):
    """A task leased to this worker (`GET /_worker/tasks/next`). The engine, which imports no
    I/O library, writes it as a dict (`Task.payload`); a test holds the two together."""

    job_id: str
    task_id: str
    task_type: str
    params: dict[str, Any]
    attempt: int
    max_attempts: int = 1
    timeout_s: float | None = None


class TaskBatch(Struct):
    """The tasks one long-poll asking for several took (`GET .../tasks/next?max=N`, N > 1):
    the first it waited for, then those ready at once, each leased to this worker."""

    tasks: Annotated[list[Task], Meta(min_length=1, max_length=MAX_BATCH)]


# -- the orchestrator's answers ------------------------------------------------------------------
# They list the fields the SDK relies on and allow more: a new field is not a breaking change.


class Registered(Struct, kw_only=True):
    """The answer to `register`: the timings the orchestrator expects from the worker."""

    status: Literal["registered"]
    heartbeat_interval_s: float | UnsetType = UNSET
    lease_s: float | UnsetType = UNSET
    poll_timeout_s: float | UnsetType = UNSET


class CancelTask(Struct, kw_only=True):
    """A cancelled attempt: stop it, and no other attempt of its task."""

    type: Literal["cancel_task"] | UnsetType = UNSET
    job_id: str
    task_id: str
    attempt: (
        Annotated[
            int,
            Meta(
                description="The attempt to stop (always sent; absent only from cancels stored "
                "by an older version, meaning every attempt)."
            ),
        ]
        | UnsetType
    ) = UNSET


class HeartbeatAnswer(Struct, kw_only=True):
    status: Literal["ttl_refreshed"]
    cancelled_tasks: Annotated[
        list[CancelTask],
        Meta(
            description="Attempts of this worker's tasks cancelled since the last heartbeat: "
            "stop each named attempt, and no other attempt of its task."
        ),
    ]
    draining: (
        Annotated[bool, Meta(description="Drained: stop polling, finish, leave.")] | UnsetType
    ) = UNSET


class ResultAnswer(Struct, kw_only=True):
    status: Annotated[str, Meta(examples=["result_accepted_success", "result_accepted_failure"])]


class DeclineAnswer(Struct, kw_only=True):
    status: Literal["task_released"]


class ProgressAnswer(Struct, kw_only=True):
    status: Literal["progress_recorded", "progress_dropped"]


WORKER_ANSWERS = (
    Registered,
    HeartbeatAnswer,
    Task,
    TaskBatch,
    ResultAnswer,
    DeclineAnswer,
    ProgressAnswer,
)
"""What the orchestrator answers the worker's requests."""


# -- the WebSocket's messages (``/_worker/ws/{worker_id}``), tagged by their ``type`` -------------


class Hello(Struct, tag="hello", tag_field="type", kw_only=True):
    """The orchestrator's first message: what the worker may send back, and how large."""

    accepts: list[str] = []
    max_message_bytes: int = 0


class CancelCommand(Struct, tag="cancel_task", tag_field="type", kw_only=True):
    """Stop this attempt of the task, and no other; no attempt (an older orchestrator):
    every attempt."""

    job_id: str = ""
    task_id: str
    attempt: int | None = None


class DrainCommand(Struct, tag="drain_worker", tag_field="type"):
    """An operator drained the worker: no new tasks; finish and leave."""


class ResultAck(Struct, tag="result_ack", tag_field="type", kw_only=True, omit_defaults=True):
    """The result was taken: ``status`` is what `POST /_worker/tasks/result` answers;
    ``tasks``: those it asked for with ``next``, leased to it (each a long-poll's task)."""

    id: int
    status: str = ""
    tasks: list[Any] = []


class ResultRefused(Struct, tag="result_error", tag_field="type", kw_only=True):
    """The result was refused as HTTP would refuse it: its status and error envelope."""

    id: int | None = None
    http_status: int
    code: str = ""
    message: str = ""
    details: dict[str, Any] | None = None


class Refused(Struct, tag="error", tag_field="type", kw_only=True):
    """A message the orchestrator could not take (not a result, no usable id, ...)."""

    id: int | None = None
    http_status: int | None = None
    code: str = ""
    message: str = ""
    details: dict[str, Any] | None = None


Command = Hello | CancelCommand | DrainCommand | ResultAck | ResultRefused | Refused
"""What the orchestrator sends on the socket."""


def wire(body: Struct) -> dict[str, Any]:
    """``body`` as the JSON object the SDK sends: its fields less the unset ones, a nested
    Struct as an object, every other value as it is (the sender's orjson encodes it, as it
    did handler data before these types)."""
    fields = ((name, getattr(body, name)) for name in body.__struct_fields__)
    return {
        name: wire(value) if isinstance(value, Struct) else value
        for name, value in fields
        if value is not UNSET
    }
