"""What workers report: task results (the job's one task, or a parallel branch), and
deliveries they decline.

A result applies to one attempt. A body that names its ``attempt`` counts only for that
attempt; one without (seed 002's body has none) counts for the attempt the job waits for. A
result that does not count (a stale attempt, or a worker that does not hold the task) is
refused with ``409 TASK_NOT_HELD`` and, while the job still waits for that task, recorded in
its history as ``result_dropped``.
"""

from __future__ import annotations

import functools
import time

from orchestrator.engine import machine, parallel
from orchestrator.engine.effects import Effects
from orchestrator.engine.events import event_without_id, record, task_result_fields
from orchestrator.engine.model import JSON, Job, JobStatus, Task, TaskStatus
from orchestrator.engine.results import judge
from orchestrator.errors import Conflict
from orchestrator.shell.jobs import MAX_CONFLICTS, JobRunner, contention


def _held(task: Task | None, worker_id: str, body: JSON) -> bool:
    return (
        task is not None
        and task.status == TaskStatus.LEASED
        and task.worker == worker_id
        and body.get("attempt") in (None, task.attempt)
    )


def _live_task(job: Job, task_id: str) -> Task | None:
    """The delivery the job still waits for under ``task_id``: its task or a branch."""
    if job.terminal:
        return None
    if job.task is not None and job.task.task_id == task_id:
        return job.task
    return job.branches.get(task_id)


def _not_held(job: Job | None, worker_id: str, body: JSON) -> Conflict:
    task_id, attempt = body["task_id"], body.get("attempt")
    details: JSON = {"job_status": job.status.value if job else None}
    task = _live_task(job, task_id) if job is not None else None
    message = f"worker {worker_id} does not hold task {task_id}"
    if task is not None:
        details["attempt"] = task.attempt
        if attempt is not None and attempt != task.attempt:
            message = (
                f"attempt {attempt} of task {task_id} is over (worker {worker_id}): "
                f"the job waits for attempt {task.attempt}"
            )
    return Conflict(message, code="TASK_NOT_HELD", details=details)


async def submit_result(runner: JobRunner, worker_id: str, body: JSON) -> str:
    """Apply a worker's result; the same result twice gets the same answer."""
    job_id, task_id = body["job_id"], body["task_id"]
    leased = _as_leased(runner.store.leased.take(job_id), worker_id, body)
    for _ in range(MAX_CONFLICTS):
        kept = leased is not None
        job = leased or await runner.store.load(job_id)
        leased = None  # a conflict means the job moved on: read it
        if job is None:
            raise _not_held(job, worker_id, body)
        branch = job.branches.get(task_id)
        if branch is not None and _held(branch, worker_id, body):
            answer = await _branch_result(runner, job, branch, worker_id, body)
            if answer is not None:
                return answer
            continue
        if not _held(
            job.task if job.task and job.task.task_id == task_id else None, worker_id, body
        ):
            repeat = _repeat(job, worker_id, task_id, body.get("attempt"))
            if repeat is not None:
                if _join_owed(job):
                    # The last branch was recorded but the step that runs the aggregator
                    # failed (Redis restarting) or its process died: the worker's resend runs
                    # it now instead of the aggregate timer, 30 s later.
                    await aggregate(runner, job.id)
                return repeat
            if await runner.step(job, functools.partial(_dropped, worker_id, body)):
                raise _not_held(job, worker_id, body)
            continue
        out = machine.on_result(
            job,
            status=body["status"],
            data=body.get("data"),
            err=body.get("error"),
            now=time.time(),
        )
        if await runner.step(job, functools.partial(_decided, out), kept=kept):
            return out.answer
    raise contention(job_id)


def _as_leased(job: Job | None, worker_id: str, body: JSON) -> Job | None:
    """The job as this process's claim left it (``storage/leased.py``), for a result of the
    task that claim leased to this worker only. Anything else (another attempt, another
    worker, a repeat) may answer without a write, so it is decided on a fresh read; a
    decision on this copy ends in a commit against its rev, which loses if the job has moved
    since (a cancel, a progress report, a lease that expired), and is then made again."""
    if job is None or job.task is None or job.task.task_id != body["task_id"]:
        return None
    return job if _held(job.task, worker_id, body) else None


def _decided(out: machine.ResultOutcome, _job: Job, _now: float) -> tuple[Job, Effects]:
    return out.job, out.effects


def _repeat(job: Job, worker_id: str, task_id: str, attempt: object) -> str | None:
    """The answer already given to this result, if it is a repeat of one that was applied."""
    last = job.last_task
    same = last is not None and (last["task_id"], last["worker"]) == (task_id, worker_id)
    if last is not None and same and attempt in (None, last.get("attempt")):
        return str(last["answer"])
    done = (job.parallel or {}).get("results", {}).get(task_id)
    if done and done.get("worker") == worker_id and attempt in (None, done.get("attempt")):
        return f"result_accepted_{done['status']}"
    return None


def _join_owed(job: Job) -> bool:
    """Every branch reported and the aggregator has not run yet."""
    return job.status == JobStatus.WAITING_FOR_PARALLEL and not job.branches


def _dropped(worker_id: str, body: JSON, job: Job, now: float) -> Job | None:
    """Record a refused result in the history, once, while its task is still awaited.

    Not after the job ended: nothing follows the terminal event. Not twice for the same
    (task, attempt, worker): a client retrying its refused result adds nothing.
    """
    task_id, attempt = body["task_id"], body.get("attempt")
    task = _live_task(job, task_id)
    if task is None:
        return None
    key = (task_id, attempt, worker_id)
    for event in reversed(job.history):
        if event["type"] == "result_dropped" and (
            (event["task_id"], event.get("attempt"), event["worker"]) == key
        ):
            return None
    stale = isinstance(attempt, int) and attempt < task.attempt
    fields: JSON = {"task_id": task_id, "worker": worker_id, "status": body["status"]}
    if attempt is not None:
        fields["attempt"] = attempt
    fields["reason"] = "stale_attempt" if stale else "not_held"
    return record(job, now, "result_dropped", **fields)


async def decline(runner: JobRunner, worker_id: str, body: JSON) -> str:
    """The worker will not run the attempt it was given: queue it again at once, same attempt.

    Only the worker holding that very attempt may decline it; anything else is
    ``409 TASK_NOT_HELD`` and changes nothing (a repeated decline included).
    """
    job_id = body["job_id"]
    reason = body.get("reason") or "declined by the worker"
    for _ in range(MAX_CONFLICTS):
        job = await runner.store.load(job_id)
        if job is None:
            raise _not_held(job, worker_id, body)
        task = _live_task(job, body["task_id"])
        if task is None or not _held(task, worker_id, body):
            raise _not_held(job, worker_id, body)
        step = functools.partial(_declined, task, str(reason))
        if await runner.step(job, step):
            return "task_released"
    raise contention(job_id)


def _declined(task: Task, reason: str, job: Job, now: float) -> tuple[Job, Effects]:
    return machine.released(job, task, now, reason=reason)


async def _branch_result(
    runner: JobRunner, job: Job, task: Task, worker_id: str, body: JSON
) -> str | None:
    """None: the job changed meanwhile, read it again."""
    now = time.time()
    status, data, err = body["status"], body.get("data"), body.get("error")
    verdict = judge(task, status, err)
    decided = machine.branch_failed(job, task, verdict, err, now)
    if decided is not None:
        answer = "result_accepted_retrying" if verdict.again else f"result_accepted_{status}"
        return answer if await runner.step(job, lambda _job, _now: decided) else None
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
