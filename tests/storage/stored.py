"""Jobs committed straight into a store, for the storage contract tests."""

from __future__ import annotations

import time
from typing import Any

import orjson

from orchestrator.engine.model import Job
from orchestrator.storage.redis_store import RedisStore
from tests.builders import dispatch, waiting_job


async def stored(
    store: RedisStore,
    job_id: str,
    requires: dict[str, Any] | None = None,
    *,
    task_type: str,
    priority: int = 0,
    delay_at: float | None = None,
) -> Job:
    """Commit a new job waiting on a ``task_type`` task; its ref goes to ready (or delayed)."""
    action = dispatch(task_type, priority=priority, requires=requires)
    job, effects = waiting_job(job_id, now=time.time(), action=action)
    if delay_at is not None:
        effects.delay = [(q, ref, delay_at) for q, ref, _ in effects.enqueue]
        effects.enqueue = []
    job = job.evolve(rev=1)
    assert await store.commit(job, effects) is True
    return job


def payload_of(job: Job) -> bytes:
    assert job.task is not None
    return orjson.dumps(job.task.payload())


def next_millisecond() -> None:
    """Spin (at most 1 ms) until the clock shows a new millisecond: queue scores are in ms."""
    start = int(time.time() * 1000)
    while int(time.time() * 1000) == start:
        pass
