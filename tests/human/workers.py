"""The ``notify`` worker of the human-step tests: counts each notice in the test's Redis."""

from __future__ import annotations

import os
from typing import Any

import redis.asyncio as aioredis

from tests.e2e3.shared import key
from worker_sdk import TaskContext, TaskError, Worker

worker = Worker()


@worker.task("notify")
async def notify(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    redis = aioredis.Redis.from_url(os.environ["E2E3_REDIS_URL"])
    try:
        await redis.rpush(key(os.environ["E2E3_PREFIX"], "notified", params["job"]), params["text"])
    finally:
        await redis.aclose()
    if params.get("fail"):
        raise TaskError("NOTIFY_DOWN", "the notice could not be sent", retryable=False)
    return {"sent": True}
