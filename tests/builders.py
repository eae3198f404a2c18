"""Job, task and action records built the way the engine builds them, for pure and store tests."""

from __future__ import annotations

import dataclasses
from typing import Any

from orchestrator.engine import machine
from orchestrator.engine.actions import Actions, DispatchTask
from orchestrator.engine.effects import Effects
from orchestrator.engine.model import Job, JobStatus, RetryPolicy, TaskStatus

NOW = 1_000.0
STATES = frozenset({"start", "work", "done", "rejected"})


def new_job(job_id: str = "job-1", *, created_at: float = NOW, **changes: Any) -> Job:
    """A job as the runner creates it: pending, in its start state, nothing stored yet."""
    fields: dict[str, Any] = {
        "id": job_id,
        "blueprint": "bp",
        "blueprint_version": "v0",
        "client": "client-a",
        "status": JobStatus.PENDING,
        "state": "start",
        "created_at": created_at,
        "updated_at": created_at,
        "initial_data": {"order": 7},
    }
    fields.update(changes)
    return Job(**fields)


def dispatch(
    task_type: str = "echo",
    *,
    transitions: dict[str, str] | None = None,
    priority: int = 0,
    retries: int = 3,
    retry_policy: RetryPolicy | None = None,
    dispatch_timeout: float | None = None,
    params: dict[str, Any] | None = None,
    **more: Any,
) -> DispatchTask:
    actions = Actions()
    actions.dispatch_task(
        task_type,
        params if params is not None else {"n": 1},
        transitions=transitions or {"success": "done", "failure": "rejected"},
        priority=priority,
        retries=retries,
        retry_policy=retry_policy,
        dispatch_timeout=dispatch_timeout,
        **more,
    )
    chosen = actions.chosen
    assert isinstance(chosen, DispatchTask)
    return chosen


def waiting_job(
    job_id: str = "job-1", *, now: float = NOW, action: DispatchTask | None = None, **changes: Any
) -> tuple[Job, Effects]:
    """A started job whose start state dispatched a task: ``waiting_for_worker``, rev 0."""
    job, effects = machine.start(new_job(job_id, created_at=now, **changes), now)
    job, more = machine.enter(job, STATES, action or dispatch(), now)
    effects.merge(more)
    return job, effects


def leased(job: Job, worker: str = "worker-1", at: float = NOW + 1) -> Job:
    """``job`` with its task handed to ``worker`` (what lease.lua does in the store)."""
    assert job.task is not None
    task = dataclasses.replace(job.task, status=TaskStatus.LEASED, worker=worker, leased_at=at)
    return job.evolve(task=task)
