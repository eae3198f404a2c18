"""The client's view of a job: the JSON the API answers with and the webhooks send."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from orchestrator.engine.events import latest_progress
from orchestrator.engine.model import Job, Task


def iso(ts: float) -> str:
    """``ts`` as ``2026-12-01T13:20:40.123Z``: what ``datetime.fromtimestamp(ts, UTC)
    .isoformat(timespec="milliseconds")`` writes, Z for the offset.

    Every job view writes two or three of these; building a datetime for each cost more than
    the rest of the view. The fraction is rounded to microseconds as ``datetime`` rounds it
    (half to even, carrying into the second), then cut to milliseconds."""
    fraction, whole = math.modf(ts)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        micros -= 1_000_000
        whole += 1.0
    elif micros < 0:
        micros += 1_000_000
        whole -= 1.0
    return f"{_second(int(whole))}.{micros // 1000:03d}Z"


@lru_cache(maxsize=1024)
def _second(whole: int) -> str:
    return datetime.fromtimestamp(whole, UTC).isoformat()[:19]


def job_view(job: Job, approval_token: str | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "job_id": job.id,
        "blueprint": job.blueprint,
        "blueprint_version": job.blueprint_version,
        "status": job.status.value,
        "current_state": job.state,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "finished_at": iso(job.finished_at) if job.finished_at else None,
        "result": job.result,
        "error": job.error,
    }
    if job.task is not None:
        view["task"] = {
            "task_id": job.task.task_id,
            "task_type": job.task.task_type,
            "status": job.task.status.value,
            "attempt": job.task.attempt,
            "worker_id": job.task.worker,
            # The latest report of this attempt (orchestrator/shell/progress.py), or null.
            "progress": _progress(job, job.task),
        }
    if job.human is not None:
        deadline = job.human.get("deadline")
        view["approval"] = {
            "state": job.human["state"],
            "decisions": sorted(job.human["decisions"]),
            "token": approval_token,
            "expires_at": iso(deadline) if deadline else None,
            "url": f"/_public/webhooks/approval/{job.id}",
            # who the step is for (docs/human-steps.md): also in the waiting_for_human webhook
            "role": job.human.get("role"),
            "assignee": job.human.get("assignee"),
            "title": job.human.get("title"),
            "due_at": iso(job.human["due"]) if job.human.get("due") else None,
        }
    if job.parallel is not None:
        view["parallel"] = {
            "total": len(job.parallel["order"]),
            "pending": len(job.branches),
            "aggregate_into": job.parallel["aggregate_into"],
        }
    if job.child is not None:
        view["child_job_id"] = job.child["job_id"]
    if job.parent is not None:
        view["parent_job_id"] = job.parent["job_id"]
    return view


def event_view(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "timestamp": iso(event["at"])}


def _progress(job: Job, task: Task) -> dict[str, Any] | None:
    event = latest_progress(job, task)
    if event is None:
        return None
    view = {k: event.get(k) for k in ("fraction", "message", "data")}
    return {**view, "at": iso(event["at"])}
