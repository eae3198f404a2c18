"""Noticing a Redis that stopped answering while its connections stay open: a paused or
swamped server, or a network that drops packets without a reset.

The pooled connections run without a per-command timeout. redis-py would otherwise wrap every
reply it reads in an asyncio timeout and every command it sends in ``wait_for`` (a task each):
about a tenth of the orchestrator's CPU per job. Instead, while commands are out, this watch
pings Redis on a connection of its own; a ping with no answer within ``STALL_S`` closes every
pooled connection and the hot round trips' own (``wire.py``), so the commands waiting on them
fail (they are retried, then the API answers 503 ``STORAGE_UNAVAILABLE``) instead of waiting
for as long as Redis stays silent.
A Redis that is down, not silent, needs none of this: its connections fail at once.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("orchestrator.storage")

STALL_S = 5.0
"""How long Redis may leave a ping unanswered before it counts as stalled."""
CHECK_S = 1.0

_RESIDENT: weakref.WeakSet[object] = weakref.WeakSet()
"""Pooled connections held for good (the pub/sub connection): taken out, with no command
waiting on them, so they do not make the pool busy."""


_LINKS: weakref.WeakKeyDictionary[object, weakref.WeakSet[Any]] = weakref.WeakKeyDictionary()
"""Per pool, the connections outside it that carry its client's round trips (``wire.py``)."""


def watch_link(pool: object, link: Any) -> None:
    """``link`` (a ``resp_link.RespLink``) carries round trips for ``pool``'s client: while it
    owes replies, commands are out; when Redis stalls, it is dropped with the pool's."""
    _LINKS.setdefault(pool, weakref.WeakSet()).add(link)


def resident(connection: object) -> None:
    """``connection`` stays taken out of its pool (a subscription): it counts as no command
    out, so an idle process sends no pings."""
    _RESIDENT.add(connection)


def start(redis: object) -> asyncio.Task[None] | None:
    """The watch over ``redis``'s pool, when its connections go without a read timeout
    (``server.build_store``; not the embedded store, nor Cluster, whose client keeps one)."""
    pool = getattr(redis, "connection_pool", None)
    if not isinstance(pool, BlockingConnectionPool):
        return None
    if pool.connection_kwargs.get("socket_timeout") is not None:
        return None
    return asyncio.create_task(watch(pool, probe_for(pool)), name="stall_watch")


def probe_for(pool: BlockingConnectionPool) -> Redis:
    """A client on one connection outside ``pool`` (a full pool must not delay the ping),
    with the read timeout the pool's connections do without."""
    kwargs = dict(pool.connection_kwargs)
    # One try: the pool's retries would turn one unanswered ping into several.
    kwargs.update(
        socket_timeout=STALL_S, socket_connect_timeout=STALL_S, retry=Retry(NoBackoff(), 0)
    )
    own = ConnectionPool(connection_class=pool.connection_class, max_connections=1, **kwargs)
    return Redis(connection_pool=own)


def _busy(pool: BlockingConnectionPool) -> bool:
    """Whether commands are out on the pool. Idle, nothing can hang and the watch sends
    nothing; when redis-py's private count is not there, always (one ping a second)."""
    if any(link.owed for link in _LINKS.get(pool, ())):
        return True
    in_use = getattr(pool, "_in_use_connections", None)
    return in_use is None or any(c not in _RESIDENT for c in in_use)


async def watch(pool: BlockingConnectionPool, probe: Redis) -> None:
    """Run until cancelled: every ``CHECK_S`` while commands are out, one ping."""
    stalled = False
    try:
        while True:
            await asyncio.sleep(CHECK_S)
            if not stalled and not _busy(pool):
                continue
            try:
                await probe.ping()
            except RedisTimeoutError:
                if not stalled:
                    log.warning(
                        "Redis has not answered a PING for %g s: closing its connections, so "
                        "that requests fail (503) rather than wait; checking every %g s",
                        STALL_S,
                        CHECK_S,
                    )
                stalled = True
                await pool.disconnect(inuse_connections=True)
                for link in list(_LINKS.get(pool, ())):
                    link.abort("Redis stopped answering")
                continue
            except (RedisError, OSError):
                continue  # down rather than silent: the commands fail by themselves
            if stalled:
                log.info("Redis answers again")
            stalled = False
    finally:
        await probe.aclose()
