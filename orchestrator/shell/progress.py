"""How far a running task got: ``POST /_worker/tasks/progress`` from the worker holding it.

Each accepted report is a ``task_progress`` event in the job's history, so ``GET
/api/v1/jobs/{id}`` shows the latest and the job's SSE stream carries every one, replayable with
``Last-Event-ID`` like any other event. The history is kept from growing without bound by
coalescing: the SDK sends at most ``2`` reports a second per task (the latest one wins, so the
last report is never lost), and the orchestrator drops a report that comes less than
``MIN_INTERVAL_S`` after the previous recorded one of the same attempt.
"""

from __future__ import annotations

import functools

from orchestrator.engine.events import latest_progress, record
from orchestrator.engine.model import JSON, Job, Task
from orchestrator.shell.jobs import MAX_CONFLICTS, JobRunner, contention
from orchestrator.shell.results import _held, _live_task, _not_held

MIN_INTERVAL_S = 0.2
"""Reports of one attempt closer than this are dropped (a worker not using the SDK's limit)."""


async def report(runner: JobRunner, worker_id: str, body: JSON) -> str:
    """Record one report of the attempt ``worker_id`` holds; ``409 TASK_NOT_HELD`` otherwise."""
    job_id = body["job_id"]
    for _ in range(MAX_CONFLICTS):
        job = await runner.store.load(job_id)
        if job is None:
            raise _not_held(job, worker_id, body)
        task = _live_task(job, body["task_id"])
        if task is None or not _held(task, worker_id, body):
            raise _not_held(job, worker_id, body)
        previous = latest_progress(job, task)
        dropped: list[bool] = []
        if await runner.step(job, functools.partial(_recorded, task, body, previous, dropped)):
            return "progress_dropped" if dropped else "progress_recorded"
    raise contention(job_id)


def _recorded(
    task: Task, body: JSON, previous: JSON | None, dropped: list[bool], job: Job, now: float
) -> Job | None:
    if previous is not None and now - float(previous["at"]) < MIN_INTERVAL_S:
        dropped.append(True)
        return None
    fields = {k: body[k] for k in ("fraction", "message", "data") if body.get(k) is not None}
    return record(
        job.evolve(updated_at=now),
        now,
        "task_progress",
        task_id=task.task_id,
        attempt=task.attempt,
        worker=task.worker,
        **fields,
    )
