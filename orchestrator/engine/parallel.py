"""Fan-out and fan-in: ``dispatch_parallel`` and its aggregator.

Branch results normally arrive through a script that writes each branch's outcome into its
own fields and counts the branches still out, so concurrent results never contend; the result
that brings the count to zero runs the aggregator. Outcomes without a worker result (timeouts,
lost leases, failures under ``fail_fast``) go through the revision-checked path here.
"""

from __future__ import annotations

from typing import Any

from orchestrator.engine.actions import DispatchParallel
from orchestrator.engine.effects import Effects
from orchestrator.engine.events import record, task_result_fields
from orchestrator.engine.model import JSON, Job, JobStatus, Task
from orchestrator.engine.steps import moved, new_task, queued


def fan_out(job: Job, action: DispatchParallel, now: float) -> tuple[Job, Effects]:
    effects = Effects()
    seq = job.task_seq + 1
    branches: dict[str, Task] = {}
    for i, spec in enumerate(action.tasks):
        task = new_task(job, f"{job.id}.{seq}.{i}", spec, now, effects)
        branches[task.task_id] = task
        job = queued(job, task, now)
    parallel = {
        "aggregate_into": action.aggregate_into,
        "failure_policy": action.failure_policy,
        "order": list(branches),
        "results": {},
    }
    job = job.evolve(
        status=JobStatus.WAITING_FOR_PARALLEL,
        branches=branches,
        parallel=parallel,
        task_seq=seq,
        updated_at=now,
    )
    return job, effects


def outcome(task: Task, status: str, data: JSON | None, err: JSON | None, now: float) -> JSON:
    """One branch's result as stored and as the aggregator sees it."""
    return {
        "task_type": task.task_type,
        "status": status,
        "data": data,
        "error": err,
        "worker": task.worker,
        "attempt": task.attempt,
        "at": now,
    }


def fail_fast(job: Job) -> bool:
    return bool(job.parallel and job.parallel["failure_policy"] == "fail_fast")


def branch_done(job: Job, task: Task, result: JSON, now: float) -> tuple[Job, bool]:
    """Record a branch outcome through the checked path; True when it was the last one."""
    assert job.parallel is not None
    parallel = {**job.parallel, "results": {**job.parallel["results"], task.task_id: result}}
    branches = {tid: t for tid, t in job.branches.items() if tid != task.task_id}
    job = job.evolve(parallel=parallel, branches=branches, updated_at=now)
    fields = task_result_fields(task, result["status"], result["error"])
    job = record(job, now, "task_result", **fields)
    return job, not branches


def aggregate(job: Job, now: float) -> Job:
    """Every branch reported: move to the aggregator with all results, in dispatch order."""
    assert job.parallel is not None
    results = job.parallel["results"]
    collected: list[dict[str, Any]] = [
        {k: results[tid][k] for k in ("task_type", "status", "data", "error")}
        for tid in job.parallel["order"]
    ]
    target = job.parallel["aggregate_into"]
    job = record(job, now, "parallel_joined", branches=len(collected))
    return moved(
        job.evolve(parallel=None, branches={}),
        target,
        now,
        results={**job.results, job.state: collected},
        context={**job.context, "parallel_results": collected},
    )
