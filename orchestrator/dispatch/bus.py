"""One pub/sub connection per process, fanned out to in-process callbacks.

It carries two kinds of messages: wake-ups (a task of some type was queued, by any process)
and commands for workers whose WebSocket is connected to this process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("orchestrator.bus")

Handler = Callable[[bytes], Awaitable[None] | None]


class Bus:
    def __init__(self, redis: Redis) -> None:
        self._pubsub: Any = redis.pubsub(ignore_subscribe_messages=True)
        self._handlers: dict[str, Handler] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.on_reconnect: Callable[[], None] | None = None

    async def subscribe(self, channel: str, handler: Handler) -> None:
        self._handlers[channel] = handler
        await self._pubsub.subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._handlers.pop(channel, None)
        try:
            await self._pubsub.unsubscribe(channel)
        except RedisError as exc:
            log.warning("unsubscribe %s failed: %s", channel, exc)

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="bus")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        try:
            await self._pubsub.aclose()
        except RedisError:
            pass

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
                delay = 0.1
            except (RedisError, OSError) as exc:
                log.warning("pub/sub connection lost (%s); reconnecting in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                if self.on_reconnect is not None:
                    # Messages published while we were away are gone: let waiters re-check.
                    self.on_reconnect()
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"].decode()
            handler = self._handlers.get(channel)
            if handler is None:
                continue
            try:
                result = handler(message["data"])
                if result is not None:
                    await result
            except Exception:
                log.exception("bus handler for %s failed", channel)
