"""Timers: a deadline passed (dispatch, execution, result, human step, escalation), a child
ended, a parent was cancelled, or the last branch reported. Each kind becomes one engine step.

A timer re-reads the job and goes through ``JobRunner.step``, so firing it twice (two
processes sweeping at once, or a timer firing after its job moved on) changes nothing.
"""

from __future__ import annotations

import time

from orchestrator.engine import human as human_steps
from orchestrator.engine import machine, waits
from orchestrator.engine.model import Job, JobStatus, TaskStatus
from orchestrator.shell.jobs import MAX_CONFLICTS, JobRunner, Step
from orchestrator.shell.leases import current_task
from orchestrator.shell.results import aggregate

CHILD_RECHECK_S = 0.2
"""How soon a child's end is looked at again while its parent has not yet started waiting."""
CHILD_RECHECK_FOR_S = 60.0
"""How long after a child's end its parent may still start waiting for it (a slow commit)."""


async def fire_timer(runner: JobRunner, member: str) -> None:
    """A deadline passed (or a child ended, or a parent was cancelled): act on it once."""
    kind, job_id, task_id, attempt = member.split("|")
    if kind == "aggregate":
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
    """True while the commit of the parent step that created this (ended) child has not landed.

    The child's link holds the rev that commit writes: a parent still below it is mid-step.
    A commit that never lands (the parent lost a race and stepped again with another child)
    leaves an orphan child; its news is dropped ``CHILD_RECHECK_FOR_S`` after its end.
    """
    child = await runner.store.load(child_id)
    if child is None or not child.terminal or not child.parent:
        return False
    landed_at = int(child.parent.get("rev", 0))
    if parent is not None and parent.rev >= landed_at:
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
    task = current_task(job, task_id, attempt)
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
