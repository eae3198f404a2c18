"""The steps every transition is built from: enter a state, end, fail, queue a task.

They sit below ``machine.py``, ``parallel.py``, ``waits.py`` and ``human.py``, which all use
them, so the engine's imports run one way: ``machine`` → ``parallel``/``waits`` → ``human`` →
``steps`` → ``events``/``model``.
"""

from __future__ import annotations

from typing import Any

from orchestrator.engine.actions import DispatchTask
from orchestrator.engine.effects import Effects
from orchestrator.engine.events import TERMINAL_EVENT, record
from orchestrator.engine.model import JSON, Job, JobStatus, Task

__all__ = [
    "arm_dispatch_timer",
    "end",
    "error",
    "fail",
    "moved",
    "new_task",
    "queued",
    "timer_member",
]


def error(code: str, message: str, **details: Any) -> JSON:
    return {"code": code, "message": message, "details": details}


def moved(job: Job, state: str, now: float, **changes: Any) -> Job:
    history = [*job.state_history, {"state": state, "entered_at": now}]
    job = job.evolve(
        state=state, state_history=history, updated_at=now, status=JobStatus.RUNNING, **changes
    )
    return record(job, now, "state_entered", state=state)


def end(job: Job, status: JobStatus, now: float, **changes: Any) -> Job:
    ended = job.evolve(
        status=status,
        updated_at=now,
        finished_at=now,
        task=None,
        branches={},
        human=None,
        **changes,
    )
    details = {"error": ended.error} if status != JobStatus.FINISHED else {}
    return record(ended, now, TERMINAL_EVENT[status], **details)


def fail(job: Job, code: str, message: str, now: float, **details: Any) -> Job:
    return end(job, JobStatus.FAILED, now, error=error(code, message, **details))


def timer_member(kind: str, job_id: str, task_id: str = "", attempt: int = 0) -> str:
    return f"{kind}|{job_id}|{task_id}|{attempt}"


def new_task(job: Job, task_id: str, action: DispatchTask, now: float, effects: Effects) -> Task:
    task = Task(
        task_id=task_id,
        task_type=action.task_type,
        params=action.params,
        transitions=action.transitions,
        priority=action.priority,
        attempt=1,
        retry=action.retry,
        timeout_s=action.timeout_s,
        dispatch_timeout_s=action.dispatch_timeout_s or job.dispatch_timeout_s,
        queued_at=now,
        catch=action.catch,
        result_schema=action.result_schema,
        requires=action.requires,
    )
    effects.enqueue.append((task.queue, task.ref, task.priority))
    arm_dispatch_timer(task, now, effects)
    return task


def queued(job: Job, task: Task, now: float) -> Job:
    return record(
        job,
        now,
        "task_queued",
        task_id=task.task_id,
        task_type=task.task_type,
        attempt=task.attempt,
    )


def arm_dispatch_timer(task: Task, queued_at: float, effects: Effects) -> None:
    if task.dispatch_timeout_s:
        member = timer_member("dispatch", task.job_id, task.task_id, task.attempt)
        effects.timers.append((member, queued_at + task.dispatch_timeout_s))
