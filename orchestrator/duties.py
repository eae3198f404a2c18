"""Periodic and event-driven duties of the runner: claims, lease expiry, timers.

Every duty re-reads the job and goes through ``JobRunner.step``, so running it twice (two
processes sweeping at once, or a timer firing after its job moved on) changes nothing.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable

import orjson

from orchestrator.engine import human as human_steps
from orchestrator.engine import machine, waits
from orchestrator.engine.effects import Effects
from orchestrator.engine.model import Job, JobStatus, Task, TaskStatus
from orchestrator.runner import MAX_CONFLICTS, JobRunner, Step, contention
from orchestrator.storage.queues import Throttled

log = logging.getLogger("orchestrator.duties")

CHILD_RECHECK_S = 0.2
"""How soon a child's end is looked at again while its parent has not yet started waiting."""
CHILD_RECHECK_FOR_S = 60.0
"""How long after a child's end its parent may still start waiting for it (a slow commit)."""


async def claim(
    runner: JobRunner, task_type: str, worker_id: str, routes: Iterable[str] = ()
) -> bytes | Throttled | None:
    """The next task of ``task_type`` for ``worker_id`` (from its own queue and those of
    ``routes``), leased; arms its execution timeout. ``Throttled`` when the type is at a limit
    of ``task_types`` in the settings."""
    limit = runner.settings.task_types.get(task_type)
    routes = tuple(routes)
    payload = await runner.claim_gate.claim(
        (task_type, routes),
        lambda: runner.store.claim(
            task_type,
            worker_id,
            runner.settings.workers.lease_s,
            routes=routes,
            max_in_flight=limit.max_in_flight if limit else 0,
            max_per_second=limit.max_per_second if limit else 0.0,
        ),
    )
    if not isinstance(payload, bytes):
        return payload
    runner.comes_due(time.time() + runner.settings.workers.lease_s)
    if b'"timeout_s":null' not in payload:
        task = orjson.loads(payload)
        member = machine.timer_member("exec", task["job_id"], task["task_id"], task["attempt"])
        at = time.time() + float(task["timeout_s"])
        await runner.store.add_timer(member, at)
        runner.comes_due(at)
    return payload


async def release(runner: JobRunner, payload: bytes, worker_id: str) -> None:
    """Put a task that was leased but never delivered back in its queue, same attempt."""
    task_info = orjson.loads(payload)
    job_id, task_id, attempt = task_info["job_id"], task_info["task_id"], str(task_info["attempt"])
    for _ in range(MAX_CONFLICTS):
        job = await runner.store.load(job_id)
        task = _current(job, task_id, attempt)
        if job is None or task is None or task.worker != worker_id or job.terminal:
            return
        if await runner.step(job, functools.partial(_release, task)):
            return


def _release(task: Task, job: Job, now: float) -> tuple[Job, Effects]:
    return machine.released(job, task, now)


def _current(job: Job | None, task_id: str, attempt: str) -> Task | None:
    if job is None:
        return None
    task = job.task if job.task and job.task.task_id == task_id else job.branches.get(task_id)
    if task is None or str(task.attempt) != attempt:
        return None
    return task


async def expire_lease(runner: JobRunner, task_type: str, ref: str) -> None:
    job_id, task_id, attempt, _ = ref.split("|")
    store = runner.store
    for _ in range(MAX_CONFLICTS):
        job = await store.load(job_id)
        task = _current(job, task_id, attempt)
        if job is None or task is None or job.terminal:
            await store.drop_lease(task_type, ref)
            return
        if task.status == TaskStatus.QUEUED:
            # Popped from the queue but never leased (a process died in between): the job
            # still waits for this delivery, so its queue entry goes back.
            await store.restore_hint(task.queue, ref, task.priority, runner.origin)
            return
        alive_until = await _lease_alive_until(runner, task)
        if alive_until > time.time():
            await store.rearm_lease(task_type, ref, alive_until)
            runner.comes_due(alive_until)
            return
        log.info(
            "lease of %s expired (worker %s)", task.task_id, task.worker, extra={"job_id": job_id}
        )
        if await runner.step(job, functools.partial(_expire, task)):
            return
    raise contention(job_id)


def _expire(task: Task, job: Job, now: float) -> tuple[Job, Effects]:
    return machine.lease_expired(job, task, now)


async def _lease_alive_until(runner: JobRunner, task: Task) -> float:
    """When the lease runs out, counting the worker's heartbeats; 0 if it restarted."""
    worker_id, leased_at = task.worker or "", task.leased_at or 0.0
    (seen,) = await runner.store.workers_seen([worker_id])
    info = await runner.store.worker_info(worker_id)
    if seen is None or info is None or info.get("registered_at", 0) > leased_at:
        return 0.0
    return max(seen, leased_at) + runner.settings.workers.lease_s


async def fire_timer(runner: JobRunner, member: str) -> None:
    """A deadline passed (or a child ended, or a parent was cancelled): act on it once."""
    kind, job_id, task_id, attempt = member.split("|")
    if kind == "aggregate":
        from orchestrator.reports import aggregate

        await aggregate(runner, job_id)
        return
    for _ in range(MAX_CONFLICTS):
        job = await runner.store.load(job_id)
        if kind == "child" and await _parent_not_yet_waiting(runner, job, task_id):
            # The child ended before its parent's commit (the one that makes it wait for the
            # child) landed: look again shortly instead of dropping the only news of the end.
            await runner.store.add_timer(member, time.time() + CHILD_RECHECK_S)
            runner.comes_due(time.time() + CHILD_RECHECK_S)
            return
        if job is None or job.terminal:
            break
        step = await _timer_step(runner, kind, job, task_id, attempt)
        if step is None or await runner.step(job, step):
            break
    await runner.store.drop_timer(member)


async def _parent_not_yet_waiting(runner: JobRunner, parent: Job | None, child_id: str) -> bool:
    """True while a recently ended child's parent may still be committing its wait for it."""
    if parent is not None and (parent.terminal or parent.status == JobStatus.WAITING_FOR_CHILD):
        return False
    child = await runner.store.load(child_id)
    if child is None or not child.terminal or not child.parent:
        return False
    ended = child.finished_at or child.updated_at
    return time.time() - ended < CHILD_RECHECK_FOR_S


async def _timer_step(
    runner: JobRunner, kind: str, job: Job, task_id: str, attempt: str
) -> Step | None:
    if kind == "result":
        return machine.result_timed_out
    if kind == "cancel":
        return machine.cancel
    if kind == "human":
        human = job.human
        if job.status != JobStatus.WAITING_FOR_HUMAN or human is None:
            return None
        if human["state"] != task_id or str(human["seq"]) != attempt:
            return None
        return waits.human_timed_out
    if kind == "child":
        return await _child_step(runner, job, task_id)
    if kind == "escalate":  # member: escalate|job|seq|level
        if not human_steps.escalation_due(job, task_id, attempt):
            return None
        return lambda j, now: human_steps.escalate(j, int(attempt), now, reason="due")
    task = _current(job, task_id, attempt)
    if kind == "dispatch" and task is not None and task.status == TaskStatus.QUEUED:
        return lambda j, now: machine.dispatch_timed_out(j, task, now)
    if kind == "exec" and task is not None and task.status == TaskStatus.LEASED:
        return lambda j, now: machine.execution_timed_out(j, task, now)
    return None


async def _child_step(runner: JobRunner, parent: Job, child_id: str) -> Step | None:
    if parent.status != JobStatus.WAITING_FOR_CHILD or not parent.child:
        return None
    if parent.child["job_id"] != child_id:
        return None
    child = await runner.store.load(child_id)
    if child is None or not child.terminal:
        return None

    def ended(j: Job, now: float) -> Job:
        moved, _ = waits.child_ended(j, child, now)
        return moved

    return ended
