"""Leases of tasks: claiming the next task for a worker, releasing an undelivered one, and
expiring a lease whose worker went quiet.

Every step re-reads the job and goes through ``JobRunner.step``, so running it twice (two
processes sweeping at once, or a timer firing after its job moved on) changes nothing.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable
from typing import Any

import orjson

from orchestrator.engine import machine
from orchestrator.engine.effects import Effects
from orchestrator.engine.model import Job, Task, TaskStatus
from orchestrator.shell.jobs import MAX_CONFLICTS, JobRunner, contention
from orchestrator.storage.queues import Claimed

log = logging.getLogger("orchestrator.shell.leases")


async def claim(
    runner: JobRunner, task_type: str, worker_id: str, routes: Iterable[str] = (), count: int = 1
) -> Claimed:
    """Up to ``count`` next tasks of ``task_type`` for ``worker_id`` (from its own queue and
    those of ``routes``), leased; arms their execution timeouts. Stops short at a limit of
    ``task_types`` in the settings (``Claimed.stop``)."""
    limit = runner.settings.task_types.get(task_type)
    routes = tuple(routes)
    found = await runner.claim_gate.claim(
        (task_type, routes),
        lambda: runner.store.claim_many(
            task_type,
            worker_id,
            runner.settings.workers.lease_s,
            count,
            routes=routes,
            max_in_flight=limit.max_in_flight if limit else 0,
            max_per_second=limit.max_per_second if limit else 0.0,
        ),
        lambda claimed: claimed.emptied,
        woken_by=task_type,
    )
    if found is None:  # another claim, sent after this one came, found the queues empty
        return Claimed(count, [])
    if not found.payloads:
        return found
    runner.comes_due(time.time() + runner.settings.workers.lease_s)
    timers: dict[str, float] = {}
    for payload in found.payloads:
        if b'"timeout_s":null' not in payload:
            task = orjson.loads(payload)
            member = machine.timer_member("exec", task["job_id"], task["task_id"], task["attempt"])
            timers[member] = time.time() + float(task["timeout_s"])
    if timers:
        await runner.store.add_timers(timers)
        runner.comes_due(min(timers.values()))
    return found


async def release(runner: JobRunner, payload: bytes, worker_id: str) -> None:
    """Put a task that was leased but never delivered back in its queue, same attempt."""
    task_info = orjson.loads(payload)
    job_id, task_id, attempt = task_info["job_id"], task_info["task_id"], str(task_info["attempt"])
    for _ in range(MAX_CONFLICTS):
        job = await runner.store.load(job_id)
        task = current_task(job, task_id, attempt)
        if job is None or task is None or task.worker != worker_id or job.terminal:
            return
        if await runner.step(job, functools.partial(_release, task)):
            return


def _release(task: Task, job: Job, now: float) -> tuple[Job, Effects]:
    return machine.released(job, task, now)


def current_task(job: Job | None, task_id: str, attempt: str) -> Task | None:
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
        task = current_task(job, task_id, attempt)
        if job is None or task is None or job.terminal:
            await store.drop_lease(task_type, ref)
            return
        if task.status == TaskStatus.QUEUED:
            # Popped from the queue but never leased (a process died in between): the job
            # still waits for this delivery, so its queue entry goes back.
            await store.restore_hint(task.queue, ref, task.priority, runner.origin)
            runner.wake(task.queue)  # the PUBLISH reaches the other processes only
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
    if _never_received(info, task, runner.settings.workers.lease_s):
        return 0.0
    return max(seen, leased_at) + runner.settings.workers.lease_s


def _never_received(info: dict[str, Any], task: Task, lease_s: float) -> bool:
    """The worker's heartbeats, a lease length after the lease began, do not list the task.

    The claim leases the task in Redis before the answer delivering it is written: a process
    killed in between (or a Redis killed after the claim's write, before its reply) leaves it
    leased to a worker that never saw it, and that worker's heartbeats would keep the lease
    alive for as long as it lives. A worker that said which tasks it runs (``running_tasks``:
    the SDK lists every task it holds, results still being sent included) and left this one
    out, long after it would have received it, does not hold it."""
    running, said_at = info.get("running_tasks"), info.get("running_at")
    if not isinstance(running, list) or not isinstance(said_at, int | float):
        return False
    return said_at > (task.leased_at or 0.0) + lease_s and task.task_id not in running
