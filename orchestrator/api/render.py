"""JSON responses (orjson) and the client's view of a job."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from orchestrator.engine.model import Job


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_response(body: Any, status: int = 200, **kwargs: Any) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", **kwargs
    )


def job_view(job: Job) -> dict[str, Any]:
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
        }
    return view
