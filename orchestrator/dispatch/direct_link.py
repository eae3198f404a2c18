"""The bus's pub/sub connection on one Redis (not Cluster), read with hiredis in bulk
(``storage/resp_link.py``): every message that arrives in one read is queued at once, and the
bus's loop hands them to their handlers in order.

Same contract as redis-py's pub/sub in ``bus._Link``: a message published while the connection
is down, or back but not yet subscribed again, is lost; once the connection is back and a
``PING`` sent after the ``SUBSCRIBE`` commands is answered (Redis answers in order, so the
subscriptions are active), the bus's ``resubscribed`` runs and parked waiters re-check.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from orchestrator.storage.resp_link import Endpoint, RespLink
from orchestrator.storage.wire import pack

if TYPE_CHECKING:
    from orchestrator.dispatch.bus import Bus, Handler

log = logging.getLogger("orchestrator.bus")

PROBE = b"orchestrator-bus-resubscribed"
"""Sent after re-sent ``SUBSCRIBE`` commands: its answer means they are active (both links)."""
_BACK = object()
"""Queued when the probe's answer arrives: after every message sent before it."""


class DirectLink:
    def __init__(self, bus: Bus, endpoint: Endpoint, retry_max_s: float) -> None:
        self._bus = bus
        self._endpoint = endpoint
        self._retry_max_s = retry_max_s
        self._handlers: dict[str, Handler] = {}
        self._link: RespLink | None = None
        self._queued: deque[Any] = deque()
        self._arrived = asyncio.Event()
        self._reconnecting: asyncio.Task[None] | None = None
        self._stopped = False
        self._down = False
        self.task: asyncio.Task[None] | None = None

    async def subscribe(self, channel: str, handler: Handler) -> None:
        self._handlers[channel] = handler
        if self._link is None and self._reconnecting is None:
            # the first subscription connects: a Redis that is down fails the start loudly
            self._link = await self._open()
        if self._link is not None:  # else the reconnect subscribes it with the others
            self._link.send(pack([("SUBSCRIBE", channel)]))

    async def unsubscribe(self, channel: str) -> None:
        self._handlers.pop(channel, None)
        if self._link is not None:
            self._link.send(pack([("UNSUBSCRIBE", channel)]))

    async def _open(self) -> RespLink:
        return await RespLink.open(self._endpoint, self._heard, self._lost)

    def _heard(self, reply: Any) -> None:
        if not isinstance(reply, list):
            if isinstance(reply, Exception) and self._link is not None:
                # e.g. LOADING from a Redis just restarted: start again, until it is ready
                log.warning("pub/sub: Redis answered %s", reply)
                self._link.abort(str(reply))
            return
        kind = reply[0]
        if kind == b"message":
            self._queued.append((reply[1], reply[2]))
        elif kind == b"pong" and reply[1] == PROBE:
            self._queued.append(_BACK)
        else:  # subscribe / unsubscribe confirmations
            return
        self._arrived.set()

    def _lost(self) -> None:
        self._link = None
        if self._stopped:
            return
        if not self._down:
            log.warning("pub/sub connection lost; reconnecting")
            self._down = True
        self._reconnecting = asyncio.create_task(self._reconnect(), name="bus-reconnect")

    async def _reconnect(self) -> None:
        delay = 0.1
        while not self._stopped:
            await asyncio.sleep(delay)
            try:
                link = await self._open()
            except (RedisError, OSError) as exc:
                log.debug("pub/sub reconnect failed: %s", exc)
                delay = min(delay * 2, self._retry_max_s)
                continue
            commands: list[tuple[str | bytes, ...]] = []
            if self._handlers:
                commands.append(("SUBSCRIBE", *self._handlers))
            commands.append(("PING", PROBE))
            link.send(pack(commands))
            self._link = link
            break
        self._reconnecting = None

    async def listen(self) -> None:
        queued = self._queued
        while True:
            if not queued:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            item = queued.popleft()
            if item is _BACK:
                self._bus.resubscribed(after_outage=self._down)
                self._down = False
            else:
                await self._bus.deliver(self._handlers, *item)

    async def stop(self) -> None:
        self._stopped = True
        for task in (self.task, self._reconnecting):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        if self._link is not None:
            self._link.close()
            self._link = None
