"""Job records to and from the fields of the job hash.

Fields the Lua scripts read or write stay scalar: ``rev``, ``status``, the one task's ``t_*``,
each parallel branch's ``b:<task id>:*``, ``pending`` (branches still out), ``history`` (a JSON
array the scripts append to) and ``hlen``. The rest is one orjson document, decoded in Python.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson

from orchestrator.engine.model import JSON, TERMINAL, Job, JobStatus, RetryPolicy, Task, TaskStatus

BRANCH_DONE = "done"
"""A parallel branch's stored status once its result is recorded (``branch_result.lua``): the
job then holds the result in ``parallel["results"]``, and the branch is no task any more."""

LEASED = (TaskStatus.QUEUED.value, TaskStatus.LEASED.value)
"""The task status a lease checks and the one it writes (``lib/lease_task.lua``)."""
RESULT_RECORDED = (TaskStatus.LEASED.value, BRANCH_DONE)
"""The branch status a branch's result checks and the one it writes (``branch_result.lua``).

The scripts take these as arguments rather than spell them: the engine's statuses are named in
Python only, and a script checks and writes what it is given."""
_TERMINAL = sorted(status.value for status in TERMINAL)
ENDED = (*_TERMINAL, str(len(_TERMINAL)))
"""The terminal job statuses and their count, the last arguments of the scripts that refuse
to touch an ended job (``lib/ended.lua``)."""

_DOC_FIELDS = (
    "blueprint",
    "blueprint_version",
    "client",
    "state",
    "created_at",
    "updated_at",
    "finished_at",
    "initial_data",
    "results",
    "context",
    "state_history",
    "task_seq",
    "last_task",
    "result",
    "error",
    "webhook_url",
    "dispatch_timeout_s",
    "result_timeout_s",
    "parallel",
    "human",
    "child",
    "parent",
)


def _task_doc(task: Task) -> dict[str, Any]:
    r = task.retry
    return {
        "id": task.task_id,
        "type": task.task_type,
        "params": task.params,
        "transitions": task.transitions,
        "priority": task.priority,
        "retry": [
            r.max_attempts,
            r.initial_interval_s,
            r.backoff_coefficient,
            r.max_interval_s,
            r.jitter,
            list(r.non_retryable),
        ],
        "timeout_s": task.timeout_s,
        "dispatch_timeout_s": task.dispatch_timeout_s,
        "queued_at": task.queued_at,
        "catch": task.catch,
        "result_schema": task.result_schema,
        # only when set: the documents of tasks without requirements stay as they were
        **({"requires": task.requires} if task.requires else {}),
    }


def _task_fields(prefix: str, task: Task) -> dict[str, str | bytes]:
    return {
        f"{prefix}att": str(task.attempt),
        f"{prefix}status": task.status.value,
        f"{prefix}worker": task.worker or "",
        f"{prefix}leased": repr(task.leased_at) if task.leased_at else "",
        f"{prefix}payload": orjson.dumps(task.payload()),
    }


def branch_prefix(task_id: str) -> str:
    return f"b:{task_id}:"


def encode(job: Job) -> dict[str, str | bytes]:
    doc: dict[str, Any] = {name: getattr(job, name) for name in _DOC_FIELDS}
    doc["task"] = _task_doc(job.task) if job.task else None
    doc["branches"] = [_task_doc(t) for t in job.branches.values()]
    fields: dict[str, str | bytes] = {
        "id": job.id,
        "rev": str(job.rev),
        "status": job.status.value,
        "doc": orjson.dumps(doc),
        "history": orjson.dumps(job.history),
        "hlen": str(len(job.history)),
        "pending": str(len(job.branches)),
        "t_id": job.task.task_id if job.task else "",
    }
    if job.task is not None:
        fields.update(_task_fields("t_", job.task))
    else:
        fields.update({"t_status": "", "t_payload": ""})
    for task in job.branches.values():
        fields.update(_task_fields(branch_prefix(task.task_id), task))
    if job.parallel:
        results = job.parallel["results"]
        for task_id in job.parallel["order"]:
            if task_id in results:
                fields[f"{branch_prefix(task_id)}status"] = BRANCH_DONE
            elif task_id not in job.branches:
                # Stopped without a result: the job ended (fail_fast, cancel, timeout). Its
                # stored status must not stay "queued" or "leased", or the lease and branch
                # scripts, which read only these fields, would still hand it out or take its
                # result after the job's end.
                fields[f"{branch_prefix(task_id)}status"] = ""
    return fields


def _retry(values: list[Any]) -> RetryPolicy:
    attempts, initial, coefficient, longest, jitter, non_retryable = values
    return RetryPolicy(attempts, initial, coefficient, longest, jitter, tuple(non_retryable))


def _text(fields: dict[bytes, bytes], name: str) -> str:
    return (fields.get(name.encode()) or b"").decode()


_TASK_STATUS = {status.value.encode(): status for status in TaskStatus}
_JOB_STATUS = {status.value.encode(): status for status in JobStatus}


@functools.cache
def _task_keys(prefix: str) -> tuple[bytes, bytes, bytes, bytes]:
    """The hash fields of the task stored under ``prefix``: attempt, status, worker, leased."""
    return tuple(f"{prefix}{name}".encode() for name in ("att", "status", "worker", "leased"))  # type: ignore[return-value]


def _task(t: JSON, fields: dict[bytes, bytes], prefix: str) -> Task:
    att, status, worker, leased = _task_keys(prefix)
    status_text = fields.get(status) or b""
    worker_id = fields.get(worker)
    leased_at = fields.get(leased)
    return Task.restore(
        {
            "task_id": t["id"],
            "task_type": t["type"],
            "params": t["params"],
            "transitions": t["transitions"],
            "priority": t["priority"],
            "attempt": int(fields.get(att) or b""),
            "retry": _retry(t["retry"]),
            "timeout_s": t["timeout_s"],
            "dispatch_timeout_s": t["dispatch_timeout_s"],
            "queued_at": t["queued_at"],
            "status": _TASK_STATUS.get(status_text) or TaskStatus(status_text.decode()),
            "worker": worker_id.decode() if worker_id else None,
            "leased_at": float(leased_at) if leased_at else None,
            "catch": t["catch"],
            "result_schema": t["result_schema"],
            "requires": t.get("requires", ""),
        }
    )


def decode(fields: dict[bytes, bytes]) -> Job | None:
    if not fields or b"doc" not in fields:
        return None
    doc = orjson.loads(fields[b"doc"])
    task = None
    if doc["task"] is not None and fields.get(b"t_id"):
        task = _task(doc["task"], fields, "t_")
    branches: dict[str, Task] = {}
    parallel = doc["parallel"]
    for t in doc["branches"]:
        prefix = branch_prefix(t["id"])
        if _text(fields, f"{prefix}status") == BRANCH_DONE:
            # Reported through the branch script since the document was last written.
            assert parallel is not None
            result = orjson.loads(fields[f"{prefix}result".encode()])
            parallel = {**parallel, "results": {**parallel["results"], t["id"]: result}}
        else:
            branches[t["id"]] = _task(t, fields, prefix)
    state = {name: doc[name] for name in _DOC_FIELDS}
    status = fields[b"status"]
    state.update(
        id=fields[b"id"].decode(),
        status=_JOB_STATUS.get(status) or JobStatus(status.decode()),
        rev=int(fields[b"rev"]),
        task=task,
        branches=branches,
        history=orjson.loads(fields[b"history"]) if fields.get(b"history") else [],
        parallel=parallel,
    )
    return Job.restore(state)
