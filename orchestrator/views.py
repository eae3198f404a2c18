"""The client's view of a job: the JSON the API answers with and the webhooks send."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orchestrator.engine.events import latest_progress
from orchestrator.engine.model import Job, Task


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
