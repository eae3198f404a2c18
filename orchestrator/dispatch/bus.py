"""One pub/sub connection per process, fanned out to in-process callbacks.

It carries wake-ups (a task of some type was queued, by any process), job ends and changes,
and commands for workers whose WebSocket is connected to this process.

Messages published while the connection is down, or reconnected but not yet subscribed again,
are lost for good. So once the connection is back *and* its subscriptions are active again,
``on_reconnect`` runs: whoever parks on a message re-checks the stored state then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from orchestrator.storage.cluster import pubsub_client

log = logging.getLogger("orchestrator.bus")

Handler = Callable[[bytes], Awaitable[None] | None]

RETRY_MAX_S = 0.25
"""Longest pause between reconnect attempts: whatever ends in the meantime is heard only
when the connection is back, so this bounds how late a waiter learns of it. An attempt
against a Redis that is down costs one refused connect."""

_PROBE = b"orchestrator-bus-resubscribed"


class Bus:
    def __init__(self, redis: Redis | RedisCluster) -> None:
        # On a Cluster: classic pub/sub on one node (every node hears every PUBLISH); should
        # that node fail, the bus moves to the next one (``_next_node``).
        self._cluster = redis if isinstance(redis, RedisCluster) else None
        self._turn = 0
        source = pubsub_client(redis, 0) if isinstance(redis, RedisCluster) else redis
        self._pubsub: Any = source.pubsub(ignore_subscribe_messages=True)
        self._handlers: dict[str, Handler] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._watched: Any = None
        self._reconnected = False
        self.on_reconnect: Callable[[], None] | None = None

    async def subscribe(self, channel: str, handler: Handler) -> None:
        self._handlers[channel] = handler
        await self._pubsub.subscribe(channel)
        self._watch_connection()

    async def unsubscribe(self, channel: str) -> None:
        self._handlers.pop(channel, None)
        try:
            await self._pubsub.unsubscribe(channel)
        except RedisError as exc:
            log.warning("unsubscribe %s failed: %s", channel, exc)

    def _watch_connection(self) -> None:
        # redis-py reconnects the pub/sub connection on its own, often inside one call that
        # then succeeds, so an error is not a reliable sign: a connect callback is. It runs
        # after redis-py's own, which re-sends the SUBSCRIBE commands.
        connection = self._pubsub.connection
        if connection is not None and connection is not self._watched:
            connection.register_connect_callback(self._connected)
            # No retries with the pool's backoff inside a call: the listen loop paces the
            # reconnects itself (RETRY_MAX_S), so the connection is back soon after Redis.
            connection.retry = Retry(NoBackoff(), 0)
            self._watched = connection

    def _connected(self, _connection: object) -> None:
        self._reconnected = True

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
        down = False
        while True:
            try:
                if self._reconnected:
                    # The SUBSCRIBE commands were sent, not yet confirmed; Redis answers in
                    # order, so our PING's reply means the subscriptions are active again.
                    self._reconnected = False
                    await self._pubsub.ping(_PROBE)
                if self._pubsub.connection is None and self._handlers:
                    # a move to another cluster node failed before its SUBSCRIBE
                    raise RedisConnectionError("pub/sub not subscribed")
                message = await self._pubsub.get_message(timeout=1.0)
                delay = 0.1
            except (RedisError, OSError) as exc:
                if not down:
                    log.warning("pub/sub connection lost (%s); reconnecting", exc)
                    down = True
                await asyncio.sleep(delay)
                if self._cluster is not None:
                    await self._next_node(self._cluster)
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            if message is None:
                continue
            if message.get("type") == "pong":
                if message.get("data") == _PROBE:
                    if down:
                        log.info("pub/sub connection back; re-checking parked waiters")
                        down = False
                    if self.on_reconnect is not None:
                        self.on_reconnect()
                continue
            await self._dispatch(message)

    async def _next_node(self, cluster: RedisCluster) -> None:
        """A dead node never comes back under the same role: subscribe on the next one.
        The re-sent SUBSCRIBEs are then probed like any reconnect, and waiters re-check."""
        self._turn += 1
        old, self._watched = self._pubsub, None
        self._pubsub = pubsub_client(cluster, self._turn).pubsub(ignore_subscribe_messages=True)
        try:
            await old.aclose()
        except (RedisError, OSError):
            pass
        try:
            if self._handlers:
                await self._pubsub.subscribe(*self._handlers)
                self._watch_connection()
            self._reconnected = True
        except (RedisError, OSError) as exc:
            log.warning("pub/sub on the next node failed too (%s)", exc)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        channel = message["channel"].decode()
        handler = self._handlers.get(channel)
        if handler is None:
            return
        try:
            result = handler(message["data"])
            if result is not None:
                await result
        except Exception:
            log.exception("bus handler for %s failed", channel)
