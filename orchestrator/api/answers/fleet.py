"""The answers about the workers and the whole deployment: the workers seen, the dashboard."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import UNSET, Meta, UnsetType

from orchestrator.api.answers import Answer, Time
from worker_sdk.protocol import Labels

Counts = dict[str, int]


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


FLEET_ANSWERS = (Worker, Dashboard)
