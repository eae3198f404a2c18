"""Job records to and from the fields of the job hash.

Fields the Lua scripts read or write stay scalar (``rev``, ``t_*``); the rest is one orjson
document, decoded in Python only.
"""

from __future__ import annotations

from typing import Any

import orjson

from orchestrator.engine.model import Job, JobStatus, RetryPolicy, Task, TaskStatus


def _task_doc(task: Task) -> dict[str, Any]:
    return {
        "id": task.task_id,
        "type": task.task_type,
        "params": task.params,
        "transitions": task.transitions,
        "priority": task.priority,
        "attempt": task.attempt,
        "retry": [
            task.retry.max_attempts,
            task.retry.initial_interval_s,
            task.retry.backoff_coefficient,
            task.retry.max_interval_s,
            task.retry.jitter,
        ],
        "timeout_s": task.timeout_s,
        "dispatch_timeout_s": task.dispatch_timeout_s,
        "queued_at": task.queued_at,
    }


def encode(job: Job) -> dict[str, str | bytes]:
    doc = {
        "blueprint": job.blueprint,
        "blueprint_version": job.blueprint_version,
        "client": job.client,
        "state": job.state,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "finished_at": job.finished_at,
        "initial_data": job.initial_data,
        "results": job.results,
        "context": job.context,
        "state_history": job.state_history,
        "task": _task_doc(job.task) if job.task else None,
        "task_seq": job.task_seq,
        "last_task": job.last_task,
        "result": job.result,
        "error": job.error,
        "webhook_url": job.webhook_url,
        "dispatch_timeout_s": job.dispatch_timeout_s,
        "result_timeout_s": job.result_timeout_s,
    }
    task = job.task
    return {
        "id": job.id,
        "rev": str(job.rev),
        "status": job.status.value,
        "doc": orjson.dumps(doc),
        "t_id": task.task_id if task else "",
        "t_att": str(task.attempt) if task else "",
        "t_status": task.status.value if task else "",
        "t_worker": (task.worker or "") if task else "",
        "t_leased": repr(task.leased_at) if task and task.leased_at else "",
        "t_payload": orjson.dumps(task.payload()) if task else "",
    }


def decode(fields: dict[bytes, bytes]) -> Job | None:
    if not fields or b"doc" not in fields:
        return None
    doc = orjson.loads(fields[b"doc"])
    task = None
    if doc["task"] is not None and fields.get(b"t_id"):
        t = doc["task"]
        leased = fields.get(b"t_leased") or b""
        task = Task(
            task_id=t["id"],
            task_type=t["type"],
            params=t["params"],
            transitions=t["transitions"],
            priority=t["priority"],
            attempt=int(fields[b"t_att"]),
            retry=RetryPolicy(*t["retry"]),
            timeout_s=t["timeout_s"],
            dispatch_timeout_s=t["dispatch_timeout_s"],
            queued_at=t["queued_at"],
            status=TaskStatus(fields[b"t_status"].decode()),
            worker=(fields.get(b"t_worker") or b"").decode() or None,
            leased_at=float(leased) if leased else None,
        )
    return Job(
        id=fields[b"id"].decode(),
        blueprint=doc["blueprint"],
        blueprint_version=doc["blueprint_version"],
        client=doc["client"],
        status=JobStatus(fields[b"status"].decode()),
        state=doc["state"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        initial_data=doc["initial_data"],
        rev=int(fields[b"rev"]),
        finished_at=doc["finished_at"],
        results=doc["results"],
        context=doc["context"],
        state_history=doc["state_history"],
        task=task,
        task_seq=doc["task_seq"],
        last_task=doc["last_task"],
        result=doc["result"],
        error=doc["error"],
        webhook_url=doc["webhook_url"],
        dispatch_timeout_s=doc["dispatch_timeout_s"],
        result_timeout_s=doc["result_timeout_s"],
    )
