"""The notifier: task ``notify`` (``orchestrator.blueprints.notifications``) and the seed's
notification API, both on one Redis store.

``python -m orchestrator.blueprints.workers.notifier`` runs both in one process: the worker
(settings from ``ORCH_URL``, ``ORCH_WORKER_TOKEN``, ... as ``worker run``) and the API on
``NOTIFIER_HOST``:``NOTIFIER_PORT`` (default ``127.0.0.1:8000``, the seed's base URL).
``worker run orchestrator.blueprints.workers.notifier:worker`` runs the task side alone.
Both keep notifications in ``NOTIFIER_REDIS_URL`` under ``NOTIFIER_PREFIX`` (in memory when
it is not set).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import uuid
from typing import Any

import fakeredis
import redis.asyncio as aioredis
from aiohttp import web

from orchestrator.blueprints.notifications import TASK_TYPE, NoticeError, check
from orchestrator.blueprints.workers.notification_api import create_app
from orchestrator.blueprints.workers.notification_store import NotificationStore
from worker_sdk import TaskContext, TaskError, Worker, WorkerSettings

log = logging.getLogger(__name__)

worker = Worker()
_store: NotificationStore | None = None


def store_from_env() -> NotificationStore:
    """On ``NOTIFIER_REDIS_URL``; without it, in this process's memory (fakeredis), so that
    a first try needs no Redis server, as ``orchestrator serve --dev`` needs none."""
    prefix = os.environ.get("NOTIFIER_PREFIX", "notifications")
    url = os.environ.get("NOTIFIER_REDIS_URL")
    if not url:
        log.warning(
            "NOTIFIER_REDIS_URL is not set: notifications live in this process's memory, "
            "lost when it stops and seen by no other process"
        )
        return NotificationStore(fakeredis.FakeAsyncRedis(), prefix)
    return NotificationStore(aioredis.Redis.from_url(url), prefix)


@worker.task(TASK_TYPE)
async def notify(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    global _store
    try:
        notice = check(params)
    except NoticeError as exc:
        raise TaskError(exc.code, str(exc)) from None
    if _store is None:
        _store = store_from_env()
    # The id comes from the task id: a task run twice posts one notification.
    notification_id = uuid.uuid5(uuid.NAMESPACE_URL, f"task:{ctx.task_id}").hex
    notification = await _store.create(notice, notification_id)
    return {"notification": notification}


async def serve(host: str, port: int) -> None:
    """The worker and the API until SIGTERM or SIGINT."""
    global _store
    _store = store_from_env()
    worker.settings = WorkerSettings.from_env(os.environ)
    runner = web.AppRunner(create_app(_store))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("notification API on http://%s:%s/notifications", host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with worker:
            await stop.wait()
    finally:
        await runner.cleanup()
        await _store.redis.aclose()


def main() -> None:
    logging.basicConfig(level=os.environ.get("WORKER_LOG_LEVEL", "INFO"))
    host = os.environ.get("NOTIFIER_HOST", "127.0.0.1")
    asyncio.run(serve(host, int(os.environ.get("NOTIFIER_PORT", "8000"))))


if __name__ == "__main__":
    main()
