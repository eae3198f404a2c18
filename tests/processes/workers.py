"""The ``notify`` worker of the process tests: keeps each notice's params in the test's Redis
(list ``<prefix>:processes:notices``) so a test can read what was sent."""

from __future__ import annotations

import os
from typing import Any

import orjson
import redis.asyncio as aioredis

from worker_sdk import TaskContext, Worker

worker = Worker()


def notices_key(prefix: str) -> str:
    return f"{prefix}:processes:notices"


@worker.task("notify")
async def notify(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    redis = aioredis.Redis.from_url(os.environ["PROCESSES_REDIS_URL"])
    try:
        await redis.rpush(notices_key(os.environ["PROCESSES_PREFIX"]), orjson.dumps(params))
    finally:
        await redis.aclose()
    return {"sent": True}
