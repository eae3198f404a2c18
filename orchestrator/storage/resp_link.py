"""A raw RESP connection to one Redis: a transport whose bytes go straight into hiredis's
reader, every reply that arrives in one read handed on in that read.

redis-py reads a reply at a time, each read an await through its retry, its timeout and its
parser (a pub/sub message also through ``get_message``'s own timeout and a dict built for it):
about ten microseconds a reply, most of what hearing a message or a round trip's replies costs
once the command is in Redis. Here a reply costs hiredis's parse and a call.

Used where the replies come in bulk: the process's pub/sub connection (``dispatch/bus.py``)
and the hot round trips (``storage/wire.py``). Only for what this module can open the way
redis-py would: a TCP or Unix socket with an optional ``AUTH`` and ``SELECT``, RESP2, and
hiredis installed (the ``fast`` extra). TLS, credential providers and RESP3 keep redis-py.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from redis._parsers.base import BaseParser
from redis.asyncio.connection import Connection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse
from redis.exceptions import TimeoutError as RedisTimeoutError

hiredis: Any
try:
    import hiredis
except ImportError:  # pragma: no cover - without the ``fast`` extra
    hiredis = None

Push = Callable[[Any], None]


@dataclass(frozen=True)
class Endpoint:
    host: str | None
    port: int
    path: str | None
    username: str | None
    password: str | None
    db: int
    connect_timeout_s: float | None


def endpoint_of(redis: Any) -> Endpoint | None:
    """Where ``redis`` (a plain ``redis.asyncio.Redis``, or its pool) connects, if this module
    can open it the same way; ``None`` otherwise (then redis-py's connections are used)."""
    if hiredis is None:
        return None
    pool = getattr(redis, "connection_pool", redis)
    kind = getattr(pool, "connection_class", None)
    if pool is None or kind not in (Connection, UnixDomainSocketConnection):
        return None
    kw = pool.connection_kwargs
    if kw.get("credential_provider") is not None or kw.get("protocol") not in (None, 2, "2"):
        return None
    unix = kind is UnixDomainSocketConnection
    return Endpoint(
        host=None if unix else str(kw.get("host", "localhost")),
        port=int(kw.get("port", 6379)),
        path=str(kw["path"]) if unix else None,
        username=kw.get("username"),
        password=kw.get("password"),
        db=int(kw.get("db") or 0),
        connect_timeout_s=kw.get("socket_connect_timeout"),
    )


class Lost(RedisConnectionError):
    """The connection closed with replies still owed."""


class RespLink(asyncio.Protocol):
    """Replies go, in order, to the ``exchange``-s waiting for them; a reply none waits for
    (a pub/sub message) goes to ``on_push``."""

    def __init__(self, on_push: Push | None = None, on_lost: Callable[[], None] | None = None):
        self.on_push = on_push
        self._on_lost = on_lost
        self._reader = hiredis.Reader(
            protocolError=InvalidResponse, replyError=BaseParser.parse_error
        )
        self._transport: asyncio.Transport | None = None
        self._waiting: deque[tuple[int, list[Any], asyncio.Future[list[Any]]]] = deque()
        self.closed = False
        self.loop = asyncio.get_running_loop()

    @classmethod
    async def open(
        cls,
        endpoint: Endpoint,
        on_push: Push | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> RespLink:
        """Connected, authenticated, its database selected; ``on_lost`` runs once, when the
        connection closes other than by ``close``."""
        link = cls(on_push)  # on_lost only once open: a failed open raises instead
        loop = link.loop
        try:
            async with asyncio.timeout(endpoint.connect_timeout_s):
                if endpoint.path is not None:
                    await loop.create_unix_connection(lambda: link, endpoint.path)
                else:
                    host = endpoint.host or "localhost"
                    await loop.create_connection(lambda: link, host, endpoint.port)
                greeting: list[tuple[str | int, ...]] = []
                if endpoint.password is not None:
                    auth = (endpoint.username,) if endpoint.username else ()
                    greeting.append(("AUTH", *auth, endpoint.password))
                if endpoint.db:
                    greeting.append(("SELECT", endpoint.db))
                if greeting:
                    for reply in await link.exchange(_pack(greeting), len(greeting)):
                        if isinstance(reply, Exception):  # a wrong password, a bad db
                            raise reply
        except TimeoutError:
            link.close()
            raise RedisTimeoutError(f"Timeout connecting to Redis at {_where(endpoint)}") from None
        except OSError as exc:
            link.close()
            raise RedisConnectionError(
                f"Error connecting to Redis at {_where(endpoint)}: {exc}"
            ) from None
        except BaseException:
            link.close()
            raise
        link._on_lost = on_lost
        return link

    @property
    def owed(self) -> int:
        """Round trips sent and not yet answered."""
        return len(self._waiting)

    def send(self, packed: bytes) -> None:
        """Commands whose replies, if any, go to ``on_push``."""
        if self._transport is None or self.closed:
            raise Lost("the Redis connection is closed")
        self._transport.write(packed)

    def exchange(self, packed: bytes, count: int) -> asyncio.Future[list[Any]]:
        """Sends ``count`` packed commands; the future gets their ``count`` replies, an error
        reply as the exception redis-py would raise for it, in its place."""
        answer: asyncio.Future[list[Any]] = self.loop.create_future()
        self.send(packed)
        self._waiting.append((count, [], answer))
        return answer

    def close(self) -> None:
        self._on_lost = None
        if self._transport is not None:
            self._transport.close()
        self._lose(Lost("the Redis connection was closed"))

    def abort(self, why: str) -> None:
        """Drop the connection now (Redis went silent): what it owes fails."""
        if self._transport is not None:
            self._transport.abort()
        self._lose(Lost(why))

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        waiting = self._waiting
        while True:
            try:
                reply = reader.gets()
            except InvalidResponse as exc:
                self.abort(f"Redis sent what is not RESP: {exc}")
                return
            if reply is False or self.closed:
                return
            if waiting:
                count, replies, answer = waiting[0]
                replies.append(reply)
                if len(replies) == count:
                    waiting.popleft()
                    if not answer.done():
                        answer.set_result(replies)
            elif self.on_push is not None:
                self.on_push(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._lose(Lost(f"the Redis connection was lost: {exc or 'closed by Redis'}"))

    def _lose(self, error: Exception) -> None:
        if self.closed:
            return
        self.closed = True
        while self._waiting:
            _, _, answer = self._waiting.popleft()
            if not answer.done():
                answer.set_exception(error)
        on_lost, self._on_lost = self._on_lost, None
        if on_lost is not None:
            on_lost()


def _pack(commands: list[tuple[str | int, ...]]) -> bytes:
    packed: list[bytes] = [hiredis.pack_command(c) for c in commands]
    return b"".join(packed)


def _where(endpoint: Endpoint) -> str:
    return endpoint.path or f"{endpoint.host}:{endpoint.port}"
