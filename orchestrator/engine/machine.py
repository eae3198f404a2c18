"""The state machine: every change of a job's status is decided here, without I/O.

Each function takes a job and an event and returns the new job plus the effects to apply on
other keys. The runner stores both in one atomic step guarded by the job's revision.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

from orchestrator.engine.actions import Action, DispatchTask, Fail, Finish, GoTo
from orchestrator.engine.effects import Effects
from orchestrator.engine.model import JSON, Job, JobStatus, Task, TaskStatus
from orchestrator.engine.retry import backoff_s, can_retry


def error(code: str, message: str, **details: Any) -> JSON:
    return {"code": code, "message": message, "details": details}


def _moved(job: Job, state: str, now: float, **changes: Any) -> Job:
    history = [*job.state_history, {"state": state, "entered_at": now}]
    return job.evolve(state=state, state_history=history, updated_at=now, **changes)


def end(job: Job, status: JobStatus, now: float, **changes: Any) -> Job:
    return job.evolve(status=status, updated_at=now, finished_at=now, task=None, **changes)


def fail(job: Job, code: str, message: str, now: float, **details: Any) -> Job:
    return end(job, JobStatus.FAILED, now, error=error(code, message, **details))


def start(job: Job, now: float) -> tuple[Job, Effects]:
    """A new job enters its start state; arms its absolute deadline."""
    effects = Effects()
    if job.result_deadline is not None:
        effects.timers.append((timer_member("result", job.id), job.result_deadline))
    return _moved(job, job.state, now, status=JobStatus.RUNNING), effects


def timer_member(kind: str, job_id: str, task_id: str = "", attempt: int = 0) -> str:
    return f"{kind}|{job_id}|{task_id}|{attempt}"


def enter(job: Job, states: frozenset[str], action: Action, now: float) -> tuple[Job, Effects]:
    """Apply the action a handler chose; ``states`` are the blueprint's state names."""
    effects = Effects()
    if isinstance(action, GoTo):
        if action.state not in states:
            return fail(job, "INVALID_TRANSITION", f"no state {action.state!r}", now), effects
        return _moved(job, action.state, now, status=JobStatus.RUNNING), effects
    if isinstance(action, Finish):
        return end(job, JobStatus.FINISHED, now, result=action.result), effects
    if isinstance(action, Fail):
        return fail(job, action.code, action.message, now), effects
    return _dispatch(job, states, action, now, effects)


def _dispatch(
    job: Job, states: frozenset[str], action: DispatchTask, now: float, effects: Effects
) -> tuple[Job, Effects]:
    unknown = sorted(set(action.transitions.values()) - states)
    if unknown:
        return fail(job, "INVALID_TRANSITION", f"no state(s) {', '.join(unknown)}", now), effects
    seq = job.task_seq + 1
    task = Task(
        task_id=f"{job.id}.{seq}",
        task_type=action.task_type,
        params=action.params,
        transitions=action.transitions,
        priority=action.priority,
        attempt=1,
        retry=action.retry,
        timeout_s=action.timeout_s,
        dispatch_timeout_s=action.dispatch_timeout_s or job.dispatch_timeout_s,
        queued_at=now,
    )
    effects.enqueue.append((task.task_type, task.ref, task.priority))
    _arm_dispatch_timer(task, now, effects)
    return job.evolve(
        status=JobStatus.WAITING_FOR_WORKER, task=task, task_seq=seq, updated_at=now
    ), effects


def _arm_dispatch_timer(task: Task, queued_at: float, effects: Effects) -> None:
    if task.dispatch_timeout_s:
        member = timer_member("dispatch", task.job_id, task.task_id, task.attempt)
        effects.timers.append((member, queued_at + task.dispatch_timeout_s))


@dataclass(frozen=True)
class ResultOutcome:
    job: Job
    effects: Effects
    answer: str
    """What the worker is told: ``result_accepted_<status>``, ``..._retrying``."""
    moved: bool
    """The job entered a new state whose handler must now run."""


def on_result(
    job: Job,
    *,
    status: str,
    data: JSON | None,
    err: JSON | None,
    now: float,
    rng: random.Random | None = None,
) -> ResultOutcome:
    """The worker holding ``job.task`` reported; the caller has checked it holds it."""
    task = job.task
    assert task is not None and task.status == TaskStatus.LEASED
    effects = Effects(release=[(task.task_type, task.ref)])
    retryable = bool(err and err.get("retryable"))
    if retryable and can_retry(task.retry, task.attempt):
        requeued = _requeue(task, now, rng, effects)
        job = job.evolve(task=requeued, updated_at=now)
        return ResultOutcome(job, effects, "result_accepted_retrying", False)
    answer = f"result_accepted_{status}"
    last = {"task_id": task.task_id, "worker": task.worker, "answer": answer}
    target = task.transitions.get(status)
    base = job.evolve(task=None, last_task=last)
    if target is not None:
        payload = dict(data or {})
        moved = _moved(
            base,
            target,
            now,
            status=JobStatus.RUNNING,
            results={**job.results, job.state: payload},
            context={**job.context, **payload},
        )
        return ResultOutcome(moved, effects, answer, True)
    if status == "failure" or err:
        code = str((err or {}).get("code") or "TASK_FAILED")
        message = str((err or {}).get("message") or f"task {task.task_type} failed")
        if retryable:
            failed = fail(base, "RETRIES_EXHAUSTED", message, now, last_error=code)
        else:
            failed = fail(base, code, message, now, task_type=task.task_type)
        return ResultOutcome(failed, effects, answer, False)
    reason = error(
        "UNMAPPED_TASK_STATUS",
        f"task {task.task_type} reported status {status!r}, which state {job.state!r} "
        f"does not map (it maps {sorted(task.transitions)})",
    )
    quarantined = end(base, JobStatus.QUARANTINED, now, error=reason)
    return ResultOutcome(quarantined, effects, answer, False)


def _requeue(task: Task, now: float, rng: random.Random | None, effects: Effects) -> Task:
    delay = backoff_s(task.retry, task.attempt, rng)
    requeued = replace(
        task,
        attempt=task.attempt + 1,
        status=TaskStatus.QUEUED,
        worker=None,
        leased_at=None,
        queued_at=now + delay,
    )
    effects.delay.append((task.task_type, requeued.ref, now + delay))
    _arm_dispatch_timer(requeued, now + delay, effects)
    return requeued


def lease_expired(job: Job, now: float, rng: random.Random | None = None) -> tuple[Job, Effects]:
    """The worker holding the task stopped heartbeating (or restarted)."""
    task = job.task
    assert task is not None
    effects = Effects(release=[(task.task_type, task.ref)])
    if can_retry(task.retry, task.attempt):
        return job.evolve(task=_requeue(task, now, rng, effects), updated_at=now), effects
    failed = fail(
        job,
        "RETRIES_EXHAUSTED",
        f"task {task.task_type} lost its lease on all {task.attempt} attempt(s)",
        now,
        last_error="LEASE_EXPIRED",
        task_type=task.task_type,
    )
    return failed, effects


def _stop_task(job: Job, effects: Effects) -> None:
    task = job.task
    if task is None:
        return
    effects.drop.append((task.task_type, task.ref))
    if task.status == TaskStatus.LEASED and task.worker:
        effects.cancel.append((task.worker, job.id, task.task_id))


def cancel(job: Job, now: float) -> tuple[Job, Effects]:
    effects = Effects()
    _stop_task(job, effects)
    cancelled = end(job, JobStatus.CANCELLED, now, error=error("CANCELLED", "cancelled"))
    return cancelled, effects


def timed_out(job: Job, kind: str, now: float) -> tuple[Job, Effects]:
    effects = Effects()
    _stop_task(job, effects)
    if kind == "dispatch":
        code, message = "DISPATCH_TIMEOUT", "no worker took the task in time"
    else:
        code, message = "RESULT_TIMEOUT", "the job did not finish before its result_timeout"
    return fail(job, code, message, now), effects
