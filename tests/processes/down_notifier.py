"""A ``notify`` worker whose notification service is down: every notice fails, for good."""

from __future__ import annotations

from typing import Any

from worker_sdk import TaskError, Worker

worker = Worker()


@worker.task("notify")
async def notify(params: dict[str, Any]) -> dict[str, Any]:
    raise TaskError("NOTIFY_DOWN", "the notification service is down", retryable=False)
