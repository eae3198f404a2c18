"""What workers report: task results (the job's one task, or a parallel branch)."""

from __future__ import annotations

import functools
import time

from orchestrator.engine import machine, parallel
from orchestrator.engine.effects import Effects
from orchestrator.engine.events import event_without_id, task_result_fields
from orchestrator.engine.model import JSON, Job, Task, TaskStatus
from orchestrator.errors import Conflict
from orchestrator.runner import MAX_CONFLICTS, JobRunner, contention


def _held(task: Task | None, worker_id: str, body: JSON) -> bool:
    return (
        task is not None
        and task.status == TaskStatus.LEASED
        and task.worker == worker_id
        and body.get("attempt") in (None, task.attempt)
    )


def _not_held(job: Job | None, worker_id: str, task_id: str) -> Conflict:
    return Conflict(
        f"worker {worker_id} does not hold task {task_id}",
        code="TASK_NOT_HELD",
        details={"job_status": job.status.value if job else None},
    )


async def submit_result(runner: JobRunner, worker_id: str, body: JSON) -> str:
    """Apply a worker's result; the same result twice gets the same answer."""
    job_id, task_id = body["job_id"], body["task_id"]
    for _ in range(MAX_CONFLICTS):
        job = await runner.store.load(job_id)
        if job is None:
            raise _not_held(job, worker_id, task_id)
        branch = job.branches.get(task_id)
        if branch is not None and _held(branch, worker_id, body):
            answer = await _branch_result(runner, job, branch, worker_id, body)
            if answer is not None:
                return answer
            continue
        if not _held(
            job.task if job.task and job.task.task_id == task_id else None, worker_id, body
        ):
            return _repeat_or_refuse(job, worker_id, task_id, body.get("attempt"))
        out = machine.on_result(
            job,
            status=body["status"],
            data=body.get("data"),
            err=body.get("error"),
            now=time.time(),
        )
        if await runner.step(job, functools.partial(_decided, out)):
            return out.answer
    raise contention(job_id)


def _decided(out: machine.ResultOutcome, _job: Job, _now: float) -> tuple[Job, Effects]:
    return out.job, out.effects


def _repeat_or_refuse(job: Job, worker_id: str, task_id: str, attempt: object) -> str:
    last = job.last_task
    same = last is not None and (last["task_id"], last["worker"]) == (task_id, worker_id)
    if last is not None and same and attempt in (None, last.get("attempt")):
        return str(last["answer"])
    done = (job.parallel or {}).get("results", {}).get(task_id)
    if done and done.get("worker") == worker_id and attempt in (None, done.get("attempt")):
        return f"result_accepted_{done['status']}"
    raise _not_held(job, worker_id, task_id)


async def _branch_result(
    runner: JobRunner, job: Job, task: Task, worker_id: str, body: JSON
) -> str | None:
    """None: the job changed meanwhile, read it again."""
    now = time.time()
    status, data, err = body["status"], body.get("data"), body.get("error")
    code = str((err or {}).get("code") or "TASK_FAILED")
    failure = bool(err) or status == "failure"
    retryable = bool(err and err.get("retryable")) and code not in task.retry.non_retryable
    if failure and retryable and task.attempt < task.retry.max_attempts:

        def retry(j: Job, at: float) -> tuple[Job, Effects]:
            effects = Effects(release=[(task.task_type, task.ref)])
            return machine.requeue(j, task, at, None, effects, reason=code), effects

        return "result_accepted_retrying" if await runner.step(job, retry) else None
    if failure and parallel.fail_fast(job):

        def fail_fast(j: Job, at: float) -> tuple[Job, Effects]:
            effects = Effects(release=[(task.task_type, task.ref)])
            message = str((err or {}).get("message") or f"branch {task.task_type} failed")
            machine.stop_tasks(
                j.evolve(branches={t: b for t, b in j.branches.items() if t != task.task_id}),
                effects,
            )
            return machine.fail(j, code, message, at, branch=task.task_id), effects

        return f"result_accepted_{status}" if await runner.step(job, fail_fast) else None
    outcome = parallel.outcome(task, status, data, err, now)
    event = event_without_id("task_result", now, **task_result_fields(task, status, err))
    remaining = await runner.store.branch_result(task, worker_id, outcome, event)
    if remaining < 0:
        return None  # the job moved under us (cancel, expiry): the next read tells
    if remaining == 0:
        await aggregate(runner, job.id)
    return f"result_accepted_{status}"


async def aggregate(runner: JobRunner, job_id: str) -> None:
    """The last branch reported: run the aggregator, once (only this caller saw zero)."""
    for _ in range(MAX_CONFLICTS):
        job = await runner.store.load(job_id)
        if job is None or job.parallel is None or job.branches:
            break
        if await runner.step(job, parallel.aggregate):
            break
    await runner.store.drop_timer(f"aggregate|{job_id}||0")
