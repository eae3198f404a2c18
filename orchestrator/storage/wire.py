"""The hot Redis round trips (a job's commit, its read, a claim), sent without redis-py's
per-command machinery.

Each ``Redis.execute_command`` or ``Pipeline.execute`` of redis-py 8 runs its observability
hooks, HIMPORT checks, argument encoding one value at a time and the pipeline's reset under
``asyncio.shield``, and reads each reply through its own await, timeout and retry: for
commands whose arguments are already strings and bytes, most of the orchestrator's Redis
work per job. ``Wire.run`` packs the commands in one pass and sends them on a connection of
its own (``resp_link.py``), whose replies hiredis parses as they arrive. Round trips are
pipelined on it: one sent before the last one's replies came back does not wait for them,
nor for a free connection. A lost connection fails what it owed; those round trips are made
again on a fresh one under the pool's ``Retry``, as redis-py's pipeline does (safe to repeat:
``server.build_store``). Replies come back raw, an error reply as its ``ResponseError`` in
its place (a pipeline's ``raise_on_error=False``).

The round trips asked for while the event loop runs one pass (the commits and claims of the
requests and results that arrived together) leave in one write, each caller's commands
together and in order, and their replies are handed back to each: under load this spares
most of the socket writes and reads and Redis wake-ups a round trip costs, at the price of
one loop pass. Each command still runs alone in Redis. A caller cancelled before its batch
leaves sends nothing; one cancelled later has sent its commands, as with any round trip
cancelled mid-flight.

Redis Cluster (commands go to their slot's node), the embedded fakeredis, and connections
``resp_link`` does not open (TLS, a credential provider, no hiredis) take redis-py's own
pipeline, with the same commands and the same raw replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError

from orchestrator.pass_batch import Asked, PassBatch
from orchestrator.storage import stall_watch
from orchestrator.storage.resp_link import Lost, RespLink, endpoint_of

Arg = str | bytes | int | float
Command = Sequence[Arg]

_pack_one: Callable[[tuple[Arg, ...]], bytes] | None
try:  # the same bytes as ``pack_in_python``; bools and None refused alike (tests/storage)
    from hiredis import pack_command

    _pack_one = cast(Callable[[tuple[Arg, ...]], bytes], pack_command)
except ImportError:  # pragma: no cover - without the ``fast`` extra
    _pack_one = None
C_PACKER = _pack_one is not None


def pack(commands: Sequence[Command]) -> bytes:
    """RESP arrays of bulk strings, encoded as redis-py's ``Encoder`` encodes them (UTF-8,
    numbers by ``repr``): by hiredis's C packer when it is installed (the ``fast`` extra;
    twice as fast, and packing is a twentieth of the orchestrator's work per job)."""
    if _pack_one is None:
        return pack_in_python(commands)
    return b"".join([_pack_one(c if type(c) is tuple else tuple(c)) for c in commands])


def pack_in_python(commands: Sequence[Command]) -> bytes:
    out: list[bytes] = []
    append = out.append
    for args in commands:
        append(b"*%d\r\n" % len(args))
        for arg in args:
            # the exact types first: most arguments are plain str and bytes
            if type(arg) is bytes:
                data = arg
            elif type(arg) is str:
                data = arg.encode()
            else:
                data = _encode(arg)
            append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(out)


def _encode(arg: object) -> bytes:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode()
    if isinstance(arg, (int, float)) and not isinstance(arg, bool):
        return repr(arg).encode()
    raise TypeError(f"not a Redis argument: {type(arg).__name__}")


def as_dict(reply: Any) -> dict[bytes, bytes]:
    """An HGETALL reply as a dict: RESP2 gives a flat list of field, value."""
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[::2], reply[1::2], strict=True))


class Batch:
    """Commands for ``Wire.run``, written as on a redis-py pipeline (``batch.zadd(...)``),
    so that code that fills either fills both: the ones a commit's first round trip uses."""

    def __init__(self) -> None:
        self.commands: list[tuple[Arg, ...]] = []

    def zadd(self, key: str, mapping: Mapping[str, int | float]) -> None:
        pieces: list[Arg] = []
        for member, score in mapping.items():
            pieces += [score, member]
        self.commands.append(("ZADD", key, *pieces))

    def zrem(self, key: str, *members: str) -> None:
        self.commands.append(("ZREM", key, *members))

    def sadd(self, key: str, *members: str) -> None:
        self.commands.append(("SADD", key, *members))

    def publish(self, channel: str, message: Arg) -> None:
        self.commands.append(("PUBLISH", channel, message))


class Wire:
    def __init__(self, redis: Any, *, direct: bool) -> None:
        """``direct``: the client is a plain ``Redis`` on TCP or Unix sockets (not Cluster,
        not fakeredis): round trips then go on a connection of the wire's own."""
        self._redis = redis
        self._endpoint = endpoint_of(redis) if direct and isinstance(redis, Redis) else None
        self._pool = redis.connection_pool if self._endpoint is not None else None
        self._retry = _retry_of(redis) if self._endpoint is not None else None
        self._link: RespLink | None = None
        self._opening: asyncio.Task[RespLink] | None = None
        self._batch: PassBatch[tuple[bytes, int], list[Any]] = PassBatch(self._send)
        """Round trips asked for in one pass: (packed commands, how many) each."""

    async def run(self, commands: Sequence[Command]) -> list[Any]:
        """The replies of ``commands``, sent in one write, in order."""
        if self._endpoint is None:
            return await self._pipelined(commands)
        return await self._batch.submit((pack(commands), len(commands)))

    async def _send(self, asked: Asked[tuple[bytes, int], list[Any]]) -> None:
        asked = [(item, replies) for item, replies in asked if not replies.done()]
        if not asked:
            return
        assert self._retry is not None
        packed = b"".join(packed for (packed, _), _ in asked)
        count = sum(commands for (_, commands), _ in asked)
        try:
            replies = await self._retry.call_with_retry(
                lambda: self._exchange(packed, count), _forget
            )
        except asyncio.CancelledError:  # the loop is closing: so are its callers
            for _, answer in asked:
                answer.cancel()
            raise
        except Exception as error:
            for _, answer in asked:
                if not answer.done():
                    answer.set_exception(error)
            return
        start = 0
        for (_, commands), answer in asked:
            if not answer.done():
                answer.set_result(replies[start : start + commands])
            start += commands

    async def _exchange(self, packed: bytes, count: int) -> list[Any]:
        link = self._link
        if link is None or link.closed or link.loop is not asyncio.get_running_loop():
            link = await self._connect()
        replies = await link.exchange(packed, count)
        for reply in replies:
            # An error reply redis-py raises rather than returns (it maps LOADING, NOAUTH and
            # the like to connection errors): raised, to be retried as redis-py retries it.
            if isinstance(reply, Exception) and not isinstance(reply, ResponseError):
                raise reply
        return replies

    async def _connect(self) -> RespLink:
        """The wire's connection, opened once for every round trip that needs it now."""
        loop = asyncio.get_running_loop()
        opening = self._opening
        if opening is None or not _may_serve(opening, loop):  # else: share it
            assert self._endpoint is not None
            opening = self._opening = loop.create_task(RespLink.open(self._endpoint))
            # its callers may all have given up by the time it fails: no "never retrieved"
            opening.add_done_callback(lambda done: done.cancelled() or done.exception())
        link = await asyncio.shield(opening)
        if link.closed:  # lost since it opened: the retry opens another
            if self._opening is opening:
                self._opening = None
            raise Lost("the Redis connection was lost")
        if self._link is not link:
            self._link = link
            stall_watch.watch_link(self._pool, link)
        return link

    async def close(self) -> None:
        link, opening = self._link, self._opening
        self._link = self._opening = None
        if opening is not None and not opening.done():
            opening.cancel()  # a connection still opening would be left open
        if link is not None:
            link.close()

    async def one(self, *args: Arg) -> Any:
        """One command's reply; an error reply is raised, but for NOSCRIPT's, returned."""
        (reply,) = await self.run([args])
        if isinstance(reply, ResponseError) and not isinstance(reply, NoScriptError):
            raise reply
        return reply

    async def script(self, script: AsyncScript, keys: Sequence[Arg], args: Sequence[Arg]) -> Any:
        """``script(keys=..., args=...)``: its EVALSHA, loading it again should Redis have
        lost it (restarted without persistence), as redis-py's ``AsyncScript`` does."""
        reply = await self.one("EVALSHA", script.sha, len(keys), *keys, *args)
        if isinstance(reply, NoScriptError):
            script.sha = await self._redis.script_load(script.script)
            reply = await self.one("EVALSHA", script.sha, len(keys), *keys, *args)
        return reply

    async def _pipelined(self, commands: Sequence[Command]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for args in commands:
                pipe.execute_command(*args)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies


def _may_serve(opening: asyncio.Task[RespLink], loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``opening`` is opening, or opened, a connection still open, in ``loop``."""
    if opening.get_loop() is not loop:
        return False
    if not opening.done():
        return True
    return not opening.cancelled() and opening.exception() is None and not opening.result().closed


async def _forget(_error: Exception) -> None:
    """Between tries: the lost connection is already forgotten (``_exchange`` opens anew)."""


def _retry_of(redis: Redis) -> Retry:
    """The pool's retries (``server.build_store``: a connection lost to a Redis restart is
    tried again on a fresh one), or one more try."""
    retry = redis.connection_pool.connection_kwargs.get("retry")
    return retry if isinstance(retry, Retry) else Retry(NoBackoff(), 1)
