"""One pub/sub connection per process (two on Cluster), fanned out to in-process callbacks.
On one Redis it is read with hiredis in bulk (``direct_link.py``) when it can be opened so.

It carries wake-ups (a task of some type was queued, by any process), job ends and changes,
and commands for workers whose WebSocket is connected to this process.

Messages published while the connection is down, or reconnected but not yet subscribed again,
are lost for good. So once the connection is back *and* its subscriptions are active again,
``on_reconnect`` runs: whoever parks on a message re-checks the stored state then. (A worker
command lost so collects from the flags its next heartbeat reads.)

On a Cluster, wake-ups and job watches use classic pub/sub on any one node (every node hears
every ``PUBLISH``); worker commands (``subscribe(..., sharded=True)``) use sharded pub/sub on
the primary of their channels' one slot, so that ``SPUBLISH`` answers how many processes hold
the worker's WebSocket, exactly (docs/deployment.md has the measurements behind the choice).
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

from orchestrator.dispatch.direct_link import PROBE, DirectLink
from orchestrator.storage import stall_watch
from orchestrator.storage.cluster import pubsub_client, shard_client
from orchestrator.storage.resp_link import endpoint_of

log = logging.getLogger("orchestrator.bus")

Handler = Callable[[bytes], Awaitable[None] | None]
Opener = Callable[[int, str], Awaitable[Any]]

RETRY_MAX_S = 0.25
"""Longest pause between reconnect attempts: whatever ends in the meantime is heard only
when the connection is back, so this bounds how late a waiter learns of it. An attempt
against a Redis that is down costs one refused connect."""


class Bus:
    def __init__(self, redis: Redis | RedisCluster) -> None:
        self.on_reconnect: Callable[[], None] | None = None
        self._sharded: _Link | None = None
        self._classic: _Link | DirectLink
        if isinstance(redis, RedisCluster):
            cluster = redis

            async def any_node(turn: int, _channel: str) -> Redis:
                return pubsub_client(cluster, turn)

            async def slot_owner(_turn: int, channel: str) -> Redis:
                return await shard_client(cluster, channel)

            # classic on one node; should that node fail, the bus moves to the next one
            self._classic = _Link(self, any_node, moves=True, sharded=False)
            self._sharded = _Link(self, slot_owner, moves=True, sharded=True)
        elif (endpoint := endpoint_of(redis)) is not None:
            self._classic = DirectLink(self, endpoint, RETRY_MAX_S)
        else:

            async def same(_turn: int, _channel: str) -> Redis:
                return redis

            self._classic = _Link(self, same, moves=False, sharded=False)

    def _link(self, sharded: bool) -> _Link | DirectLink:
        return self._sharded if sharded and self._sharded is not None else self._classic

    async def subscribe(self, channel: str, handler: Handler, *, sharded: bool = False) -> None:
        """``sharded``: a worker command channel (all of them share one hash slot)."""
        await self._link(sharded).subscribe(channel, handler)

    async def unsubscribe(self, channel: str, *, sharded: bool = False) -> None:
        await self._link(sharded).unsubscribe(channel)

    def start(self) -> None:
        for link in (self._classic, self._sharded):
            if link is not None:
                link.task = asyncio.create_task(link.listen(), name="bus")

    async def stop(self) -> None:
        for link in (self._classic, self._sharded):
            if link is not None:
                await link.stop()

    def resubscribed(self, *, after_outage: bool) -> None:
        """A link's subscriptions are active again: parked waiters re-check."""
        if after_outage:
            log.info("pub/sub connection back; re-checking parked waiters")
        if self.on_reconnect is not None:
            self.on_reconnect()

    async def deliver(self, handlers: dict[str, Handler], channel: bytes, data: bytes) -> None:
        """A message heard on ``channel``, to its handler, one at a time: a handler that
        fails is logged and the next message goes ahead."""
        name = channel.decode()
        handler = handlers.get(name)
        if handler is None:
            return
        try:
            result = handler(data)
            if result is not None:
                await result
        except Exception:
            log.exception("bus handler for %s failed", name)


async def _as_is(message: Any) -> Any:
    """redis-py's own handler of a pushed message (hiredis hands it every pub/sub message)
    formats the whole message for a debug line, even when nothing logs it: an end carries
    its job (``storage/end_message.py``), a kilobyte or more to format for nothing."""
    return message


class _Link:
    """One pub/sub connection, its subscriptions and its listen loop."""

    def __init__(self, bus: Bus, opener: Opener, *, moves: bool, sharded: bool) -> None:
        self._bus = bus
        self._opener = opener
        self._moves = moves  # on Cluster: after an error, open a connection anew
        self._sharded = sharded
        self._turn = 0
        self._pubsub: Any = None
        self._opened = asyncio.Event()
        self._handlers: dict[str, Handler] = {}
        self._watched: Any = None
        self._reconnected = False
        self.task: asyncio.Task[None] | None = None

    async def _open(self, channel: str) -> Any:
        # Sharded: subscribe confirmations are kept, to see Redis end a subscription when the
        # slot leaves the node (``sunsubscribe`` on a manual failover or a slot migration).
        pubsub = (await self._opener(self._turn, channel)).pubsub(
            ignore_subscribe_messages=not self._sharded, push_handler_func=_as_is
        )
        self._pubsub, self._watched = pubsub, None
        self._opened.set()
        return pubsub

    async def _send_subscribe(self, *channels: str) -> None:
        if self._sharded:
            await self._pubsub.ssubscribe(*channels)
        else:
            await self._pubsub.subscribe(*channels)
        self._watch_connection()

    async def subscribe(self, channel: str, handler: Handler) -> None:
        self._handlers[channel] = handler
        if self._pubsub is None:
            await self._open(channel)
        await self._send_subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._handlers.pop(channel, None)
        try:
            if self._sharded:
                await self._pubsub.sunsubscribe(channel)
            else:
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
            stall_watch.resident(connection)  # held for good: no command waits on it
            self._watched = connection

    def _connected(self, _connection: object) -> None:
        self._reconnected = True

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        if self._pubsub is not None:
            try:
                await self._pubsub.aclose()
            except RedisError:
                pass

    async def listen(self) -> None:
        await self._opened.wait()
        delay = 0.1
        down = False
        while True:
            try:
                if self._reconnected:
                    # The SUBSCRIBE commands were sent, not yet confirmed; Redis answers in
                    # order, so our PING's reply means the subscriptions are active again.
                    self._reconnected = False
                    await self._pubsub.ping(PROBE)
                if self._pubsub.connection is None and self._handlers:
                    # a move to another cluster node failed before its SUBSCRIBE
                    raise RedisConnectionError("pub/sub not subscribed")
                message = await self._pubsub.get_message(timeout=1.0)
                if message is not None and self._dropped(message):
                    raise RedisConnectionError("the node ended a sharded subscription")
                delay = 0.1
            except (RedisError, OSError) as exc:
                if not down:
                    log.warning("pub/sub connection lost (%s); reconnecting", exc)
                    down = True
                await asyncio.sleep(delay)
                if self._moves:
                    await self._next_node()
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            if message is None:
                continue
            if message.get("type") == "pong":
                if message.get("data") == PROBE:
                    self._bus.resubscribed(after_outage=down)
                    down = False
                continue
            await self._dispatch(message)

    def _dropped(self, message: dict[str, Any]) -> bool:
        """Redis ended a sharded subscription we still want: its slot left the node."""
        channel = message.get("channel")
        return (
            message.get("type") == "sunsubscribe"
            and channel is not None
            and channel.decode() in self._handlers
        )

    async def _next_node(self) -> None:
        """A dead node never comes back under the same role: subscribe on the next one (on
        the slot's new primary, for sharded channels). The re-sent SUBSCRIBEs are then probed
        like any reconnect, and waiters re-check."""
        self._turn += 1
        old = self._pubsub
        try:
            if self._handlers:
                await self._open(next(iter(self._handlers)))
                await self._send_subscribe(*self._handlers)
            self._reconnected = True
        except (RedisError, OSError) as exc:
            log.warning("pub/sub on the next node failed too (%s)", exc)
        if old is not None:  # if opening failed, the closed one makes the loop try again
            try:
                await old.aclose()
            except (RedisError, OSError):
                pass

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") in ("message", "smessage"):
            await self._bus.deliver(self._handlers, message["channel"], message["data"])
