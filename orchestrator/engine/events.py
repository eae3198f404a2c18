"""History events: what happened to a job, in order, with wall-clock times."""

from __future__ import annotations

import json
import re
from typing import Any

from orchestrator.engine.model import JSON, Job, JobStatus, Task

TERMINAL_EVENT = {
    JobStatus.FINISHED: "job_finished",
    JobStatus.FAILED: "job_failed",
    JobStatus.CANCELLED: "job_cancelled",
    JobStatus.QUARANTINED: "job_quarantined",
}


def record(job: Job, now: float, event_type: str, /, **data: Any) -> Job:
    """``job`` with one more event; its id is its position in the history, from 1."""
    event: JSON = {"id": len(job.history) + 1, "type": event_type, "at": now, **data}
    return job.evolve(history=[*job.history, event])


def event_without_id(event_type: str, now: float, /, **data: Any) -> JSON:
    """An event a Lua script appends; the script gives it its id."""
    return {"type": event_type, "at": now, **data}


def task_leased(task_id: str, attempt: int, worker: str, now: float) -> JSON:
    """The event the lease script appends when it hands ``task_id``'s attempt to ``worker``."""
    return _leased(task_id, attempt, worker, now)


def _leased(task_id: Any, attempt: Any, worker: Any, now: Any) -> JSON:
    return event_without_id("task_leased", now, task_id=task_id, attempt=attempt, worker=worker)


def task_leased_frame() -> list[str]:
    """``task_leased`` as compact JSON text around its values, in the order time, task id,
    attempt, worker: five pieces. The lease script on one Redis builds the event from them
    (it cannot call the engine), so the event's shape stays decided here."""
    marks = ["\x01", "\x02", "\x03", "\x04"]  # the values in the order the script gives them
    text = json.dumps(_leased(marks[1], marks[2], marks[3], marks[0]), separators=(",", ":"))
    quoted = [json.dumps(mark) for mark in marks]
    if sorted(quoted, key=text.find) != quoted:
        raise RuntimeError("task_leased's fields are not in the order the lease script gives")
    return re.split("|".join(re.escape(q) for q in quoted), text)


def task_result_fields(task: Task, status: str, err: JSON | None) -> JSON:
    """What a ``task_result`` event says, whichever path recorded the result."""
    fields: JSON = {
        "task_id": task.task_id,
        "attempt": task.attempt,
        "worker": task.worker,
        "status": status,
    }
    if err:
        fields["error"] = err
    return fields


def latest_progress(job: Job, task: Task) -> JSON | None:
    """The last ``task_progress`` event of ``task``'s current attempt, if any."""
    for event in reversed(job.history):
        if (
            event["type"] == "task_progress"
            and event.get("task_id") == task.task_id
            and event.get("attempt") == task.attempt
        ):
            return event
        if event["type"] == "task_leased" and event.get("task_id") == task.task_id:
            return None  # the attempt's lease: nothing older belongs to it
    return None
