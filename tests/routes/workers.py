"""The worker the end-to-end route tests run as a real process (``tests.routes.workers:worker``):
``route_send`` "sends" to the task's recipients, and fails like a mail server would for a
task named ``fail``."""

from __future__ import annotations

from typing import Any

from worker_sdk import TaskContext, TaskError, Worker

worker = Worker()


@worker.task("route_send")
async def route_send(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    if params["task_uuid"] == "fail":
        raise TaskError("EMAIL_SEND_ERROR", "sending to op@example.com failed")
    return {"sent_to": ["op@example.com", f"{ctx.worker_id}@example.com"]}
