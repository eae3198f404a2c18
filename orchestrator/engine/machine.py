"""The state machine: every change of a job's status is decided here, without I/O.

Each function takes a job and what happened, and returns the new job (with its history
events) plus the effects on other keys. The runner stores both in one atomic step guarded by
the job's revision.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from orchestrator.engine import parallel, waits
from orchestrator.engine.actions import (
    Action,
    AwaitHuman,
    DispatchParallel,
    DispatchTask,
    Fail,
    Finish,
    GoTo,
    RunBlueprint,
)
from orchestrator.engine.effects import Effects
from orchestrator.engine.events import record, task_result_fields
from orchestrator.engine.model import JSON, Job, JobStatus, Task, TaskStatus
from orchestrator.engine.results import Verdict, judge
from orchestrator.engine.retry import can_retry, retry_delay_s
from orchestrator.engine.schema import violations
from orchestrator.engine.steps import (
    arm_dispatch_timer,
    end,
    error,
    fail,
    moved,
    new_task,
    queued,
    timer_member,
)

# ``end``, ``error``, ``fail``, ``moved`` and ``timer_member`` live in ``steps`` (parallel and
# waits use them too); the shell keeps calling them through ``machine``.
__all__ = [
    "ResultOutcome",
    "branch_failed",
    "cancel",
    "dispatch_timed_out",
    "end",
    "enter",
    "error",
    "execution_timed_out",
    "fail",
    "lease_expired",
    "moved",
    "on_result",
    "released",
    "requeue",
    "result_timed_out",
    "resume",
    "start",
    "stop_tasks",
    "task_failed_for_good",
    "timer_member",
]


def start(job: Job, now: float) -> tuple[Job, Effects]:
    """A new job enters its start state; arms its absolute deadline."""
    effects = Effects()
    if job.result_deadline is not None:
        effects.timers.append((timer_member("result", job.id), job.result_deadline))
    created = record(
        job, now, "job_created", blueprint=job.blueprint, version=job.blueprint_version
    )
    return moved(created, job.state, now), effects


def enter(job: Job, states: frozenset[str], action: Action, now: float) -> tuple[Job, Effects]:
    """Apply the action a handler chose; ``states`` are the blueprint's state names."""
    effects = Effects()
    unknown = sorted(_targets(action) - states)
    if unknown:
        return fail(job, "INVALID_TRANSITION", f"no state(s) {', '.join(unknown)}", now), effects
    if isinstance(action, GoTo):
        return moved(job, action.state, now), effects
    if isinstance(action, Finish):
        return end(job, JobStatus.FINISHED, now, result=action.result), effects
    if isinstance(action, Fail):
        return fail(job, action.code, action.message, now), effects
    if isinstance(action, DispatchParallel):
        return parallel.fan_out(job, action, now)
    if isinstance(action, AwaitHuman):
        return waits.await_human(job, action, now)
    if isinstance(action, RunBlueprint):
        return waits.run_child(job, action, now)
    seq = job.task_seq + 1
    task = new_task(job, f"{job.id}.{seq}", action, now, effects)
    job = job.evolve(status=JobStatus.WAITING_FOR_WORKER, task=task, task_seq=seq, updated_at=now)
    return queued(job, task, now), effects


def _targets(action: Action) -> set[str]:
    if isinstance(action, GoTo):
        return {action.state}
    if isinstance(action, DispatchTask):
        return set(action.transitions.values()) | set(action.catch.values())
    if isinstance(action, DispatchParallel):
        return {action.aggregate_into} | {s for t in action.tasks for s in t.catch.values()}
    if isinstance(action, AwaitHuman):
        return set(action.decisions.values()) | ({action.on_timeout} - {None})  # type: ignore[operator]
    if isinstance(action, RunBlueprint):
        return set(action.transitions.values())
    return set()


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
    effects = Effects(release=[(task.queue, task.ref)])
    job = record(job, now, "task_result", **task_result_fields(task, status, err))
    verdict = judge(task, status, err)
    code, failure, retryable = verdict.code, verdict.failure, verdict.retryable
    if verdict.again:
        answer = "result_accepted_retrying"
        job = job.evolve(
            last_task={"task_id": task.task_id, "worker": task.worker, "answer": answer}
        )
        job = requeue(job, task, now, rng, effects, reason=code, err=err)
        return ResultOutcome(job, effects, answer, False)
    answer = f"result_accepted_{status}"
    base = job.evolve(task=None, last_task=_last(task, answer))
    target = task.transitions.get(status)
    if failure and code in task.catch:
        target = task.catch[code]
    if target is not None:
        payload = dict(data or {})
        broken = violations(payload, task.result_schema) if task.result_schema else []
        if broken and not failure:
            reason = error("RESULT_SCHEMA_VIOLATION", "; ".join(broken), task_type=task.task_type)
            quarantined = end(base, JobStatus.QUARANTINED, now, error=reason)
            return ResultOutcome(quarantined, effects, answer, False)
        entered = moved(
            base,
            target,
            now,
            results={**job.results, job.state: payload},
            context={**job.context, **payload},
        )
        return ResultOutcome(entered, effects, answer, True)
    if failure:
        message = str((err or {}).get("message") or f"task {task.task_type} failed")
        if retryable:
            failed = fail(
                base, "RETRIES_EXHAUSTED", message, now, last_error=code, attempts=task.attempt
            )
        else:
            failed = fail(base, code, message, now, task_type=task.task_type)
        return ResultOutcome(failed, effects, answer, False)
    reason = error(
        "UNMAPPED_TASK_STATUS",
        f"task {task.task_type} reported status {status!r}, which state {job.state!r} "
        f"does not map (it maps {sorted(task.transitions)})",
    )
    return ResultOutcome(
        end(base, JobStatus.QUARANTINED, now, error=reason), effects, answer, False
    )


def branch_failed(
    job: Job, task: Task, verdict: Verdict, err: JSON | None, now: float
) -> tuple[Job, Effects] | None:
    """A branch's worker reported: another attempt, or under ``fail_fast`` a failure that ends
    the job. None: neither, the outcome is only recorded (``parallel.outcome``)."""
    effects = Effects(release=[(task.task_type, task.ref)])
    if verdict.again:
        return requeue(job, task, now, None, effects, reason=verdict.code, err=err), effects
    if not (verdict.failure and parallel.fail_fast(job)):
        return None
    message = str((err or {}).get("message") or f"branch {task.task_type} failed")
    others = {t: b for t, b in job.branches.items() if t != task.task_id}
    stop_tasks(job.evolve(branches=others), effects)
    return fail(job, verdict.code, message, now, branch=task.task_id), effects


def _last(task: Task, answer: str) -> JSON:
    """Kept so that the same result sent again gets the same answer."""
    return {
        "task_id": task.task_id,
        "worker": task.worker,
        "attempt": task.attempt,
        "answer": answer,
    }


def requeue(
    job: Job,
    task: Task,
    now: float,
    rng: random.Random | None,
    effects: Effects,
    *,
    reason: str,
    err: JSON | None = None,
) -> Job:
    """Put ``task`` back for another attempt after a backoff, or the delay its worker asked."""
    delay = retry_delay_s(task.retry, task.attempt, err, rng)
    # The worker's own words go into the history next to the delay they explain.
    asked = {"message": str(err.get("message") or "")} if err and err.get("message") else {}
    again = replace(
        task,
        attempt=task.attempt + 1,
        status=TaskStatus.QUEUED,
        worker=None,
        leased_at=None,
        queued_at=now + delay,
    )
    effects.delay.append((task.queue, again.ref, now + delay))
    arm_dispatch_timer(again, now + delay, effects)
    if task.branch:
        job = job.evolve(branches={**job.branches, task.task_id: again}, updated_at=now)
    else:
        job = job.evolve(task=again, updated_at=now)
    return record(
        job,
        now,
        "task_requeued",
        task_id=task.task_id,
        attempt=again.attempt,
        delay_s=round(delay, 3),
        reason=reason,
        **asked,
    )


def released(job: Job, task: Task, now: float, *, reason: str | None = None) -> tuple[Job, Effects]:
    """A leased task was never delivered (the worker hung up), or its worker declined it
    (``reason`` says why): same attempt, queued again, since it never ran, or a stopping worker
    cut it at the end of its grace period (a hand-back, which spends no attempt)."""
    effects = Effects(release=[(task.queue, task.ref)])
    again = replace(task, status=TaskStatus.QUEUED, worker=None, leased_at=None)
    effects.enqueue.append((task.queue, again.ref, again.priority))
    if task.branch:
        job = job.evolve(branches={**job.branches, task.task_id: again})
    else:
        job = job.evolve(task=again)
    declined = {} if reason is None else {"worker": task.worker, "reason": reason}
    job = record(job, now, "task_released", task_id=task.task_id, attempt=task.attempt, **declined)
    return job, effects


def task_failed_for_good(
    job: Job, task: Task, code: str, message: str, now: float, effects: Effects
) -> Job:
    """A task ends without a result (timeouts, lost leases): catch it, or fail the job.

    A branch under the ``collect`` policy instead counts as a failed branch.
    """
    if task.branch and not parallel.fail_fast(job):
        result = parallel.outcome(task, "failure", None, error(code, message), now)
        job, last = parallel.branch_done(job, task, result, now)
        return parallel.aggregate(job, now) if last else job
    target = task.catch.get(code)
    if target is not None and not task.branch:
        failure = {"error": error(code, message)}
        return moved(
            job.evolve(task=None), target, now, results={**job.results, job.state: failure}
        )
    stop_tasks(job, effects)
    return fail(job, code, message, now, task_type=task.task_type, attempts=task.attempt)


def lease_expired(
    job: Job, task: Task, now: float, rng: random.Random | None = None
) -> tuple[Job, Effects]:
    """The worker holding ``task`` stopped heartbeating (or restarted)."""
    effects = Effects(release=[(task.queue, task.ref)])
    job = record(
        job, now, "lease_expired", task_id=task.task_id, attempt=task.attempt, worker=task.worker
    )
    job = record(job, now, "timeout", kind="heartbeat", task_id=task.task_id)
    if can_retry(task.retry, task.attempt):
        return requeue(job, task, now, rng, effects, reason="HEARTBEAT_TIMEOUT"), effects
    message = f"task {task.task_type} lost its lease on all {task.attempt} attempt(s)"
    return task_failed_for_good(job, task, "HEARTBEAT_TIMEOUT", message, now, effects), effects


def execution_timed_out(
    job: Job, task: Task, now: float, rng: random.Random | None = None
) -> tuple[Job, Effects]:
    """An attempt ran longer than its ``timeout``: stop it, and retry or give up."""
    effects = Effects(release=[(task.queue, task.ref)])
    if task.worker:
        effects.cancel.append((task.worker, job.id, task.task_id, task.attempt))
    job = record(job, now, "timeout", kind="execution", task_id=task.task_id, attempt=task.attempt)
    if can_retry(task.retry, task.attempt):
        return requeue(job, task, now, rng, effects, reason="EXECUTION_TIMEOUT"), effects
    message = f"task {task.task_type} ran past its {task.timeout_s}s timeout"
    return task_failed_for_good(job, task, "EXECUTION_TIMEOUT", message, now, effects), effects


def stop_tasks(job: Job, effects: Effects) -> None:
    tasks = [job.task] if job.task else []
    for task in [*tasks, *job.branches.values()]:
        entry = (task.queue, task.ref)
        if entry not in effects.drop:  # a timeout already dropped the task it is about
            effects.drop.append(entry)
        if task.status == TaskStatus.LEASED and task.worker:
            effects.cancel.append((task.worker, job.id, task.task_id, task.attempt))


def cancel(job: Job, now: float) -> tuple[Job, Effects]:
    effects = Effects()
    stop_tasks(job, effects)
    if job.child is not None:
        effects.timers.append((timer_member("cancel", job.child["job_id"]), now))
    cancelled = end(job, JobStatus.CANCELLED, now, error=error("CANCELLED", "cancelled"))
    return cancelled, effects


def dispatch_timed_out(job: Job, task: Task, now: float) -> tuple[Job, Effects]:
    effects = Effects(drop=[(task.queue, task.ref)])
    job = record(job, now, "timeout", kind="dispatch", task_id=task.task_id)
    message = f"no worker took task {task.task_type} within {task.dispatch_timeout_s}s"
    return task_failed_for_good(job, task, "DISPATCH_TIMEOUT", message, now, effects), effects


def result_timed_out(job: Job, now: float) -> tuple[Job, Effects]:
    effects = Effects()
    stop_tasks(job, effects)
    if job.child is not None:
        effects.timers.append((timer_member("cancel", job.child["job_id"]), now))
    job = record(job, now, "timeout", kind="result")
    message = f"the job did not end within its result_timeout of {job.result_timeout_s}s"
    return fail(job, "RESULT_TIMEOUT", message, now), effects


def resume(job: Job, now: float) -> Job:
    """``POST .../retry``: a failed or quarantined job runs the state that failed again."""
    resumed = job.evolve(finished_at=None, error=None, result=None)
    resumed = record(resumed, now, "job_retried", state=job.state, previous_error=job.error)
    return moved(resumed, job.state, now)
