"""Running the orchestrator: build the store and app from ``Settings``, serve, stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
from urllib.parse import urlsplit

from aiohttp import web
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from orchestrator.api.access import AccessLogger
from orchestrator.api.protocol import JsonErrorsRunner
from orchestrator.app import create_app
from orchestrator.appkeys import SETTINGS
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.config import Settings
from orchestrator.errors import StartupError
from orchestrator.intake.specs import load_blueprints
from orchestrator.storage import stall_watch
from orchestrator.storage.cluster import cluster_client, is_cluster_url, seeds
from orchestrator.storage.embedded import embedded_store
from orchestrator.storage.pool import QuickPool
from orchestrator.storage.redis_store import RedisStore
from orchestrator.storage.resp_link import endpoint_of

log = logging.getLogger("orchestrator")

LISTEN_BACKLOG = 4096
"""Connections the kernel queues for accept (capped by ``net.core.somaxconn``). aiohttp's
default of 128 made a burst of thousands of long-polls wait for TCP's SYN retries (1, 3, 7,
15 s): polls answered up to 16 s past their timeout."""


GC_YOUNG_THRESHOLD = 10_000
"""Container allocations between two collections of CPython's youngest generation (its default:
700). A burst of 10,000 long-polls allocates objects that all live until their polls end; at
700 they were scanned again and again, and each quarter the heap grew by set off a full
collection of the whole heap: 13 in one run of ``bench/e2e.py --mode idle``, up to 0.9 s each,
none freeing anything. At 10,000: one or two, and the process's CPU per parked poll fell from
about 350 to 180 µs. Garbage in cycles waits a little longer to be freed (a few MiB at most)."""


def tune_gc() -> None:
    """Fewer collections (``GC_YOUNG_THRESHOLD``); the older generations' thresholds as they are."""
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, oldest)


def pool_size(settings: Settings, *, own: int = 1) -> int:
    """Pooled connections: ``redis_max_connections`` less the ``own`` connections opened
    outside the pool: the stall watch's ping (``storage/stall_watch.py``), and on one Redis
    the pub/sub connection and the hot round trips' (``storage/resp_link.py``; through
    redis-py, the pub/sub connection is one of the pool's). Parked long-polls hold none; a
    burst of them reads and claims in batches (``FieldBatch``, ``ClaimGate``), so a few
    connections carry thousands of idle workers."""
    return settings.redis.max_connections - own


def build_store(settings: Settings) -> RedisStore:
    if settings.redis.url is None:
        return embedded_store(settings.redis.key_prefix)
    if is_cluster_url(settings.redis.url):
        # routes each command to its slot's node; the pool size then bounds each node's pool
        client = cluster_client(settings.redis.url, pool_size(settings))
        return RedisStore(client, settings.redis.key_prefix)  # type: ignore[arg-type]
    pool = QuickPool.from_url(
        settings.redis.url,
        # Parked long-polls hold no connection; commands wait here for one, in order.
        max_connections=pool_size(settings),
        timeout=10,
        # No per-command timeout (it costs a tenth of the CPU per job): storage/stall_watch.py
        # notices a Redis gone silent and closes these connections instead. Connecting (and
        # the greeting that follows) keeps a limit: a stalled Redis still accepts TCP.
        socket_timeout=None,
        socket_connect_timeout=stall_watch.STALL_S,
        # After Redis restarts, every pooled connection is dead: retry once more on a fresh
        # one instead of failing the request. Safe to repeat: a job write is a compare-and-
        # set, and a claim repeated after a lost reply leaves an entry the sweeper restores.
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), 3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    if endpoint_of(pool) is not None:  # the bus and the wire open their own: two fewer here
        pool.max_connections = pool_size(settings, own=3)
    return RedisStore(Redis(connection_pool=pool), settings.redis.key_prefix)


def build_app(settings: Settings, registry: BlueprintRegistry | None = None) -> web.Application:
    if registry is None:
        registry = BlueprintRegistry(load_blueprints(settings.blueprints))
    return create_app(settings, build_store(settings), registry)


async def serve(app: web.Application, host: str, port: int, shutdown_timeout_s: float) -> None:
    """Serve until SIGTERM/SIGINT, then stop taking requests, answer parked long-polls,
    let in-flight requests finish (up to ``shutdown_timeout_s``) and return."""
    tune_gc()
    runner = JsonErrorsRunner(
        app,
        shutdown_timeout=shutdown_timeout_s,
        handle_signals=False,
        access_log_class=AccessLogger,
    )
    try:
        await runner.setup()  # connects to Redis: loads the scripts, subscribes
    except (RedisError, OSError) as exc:
        with contextlib.suppress(Exception):
            await runner.cleanup()
        where = redis_location(app[SETTINGS].redis.url)
        raise StartupError(
            f"cannot use Redis at {where}: {str(exc).rstrip('.')}. Start Redis there, or "
            "point --redis-url (ORCH_REDIS_URL) at a running one"
        ) from None
    site = web.TCPSite(runner, host, port, backlog=LISTEN_BACKLOG)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise StartupError(
            f"cannot listen on {host}:{port}: {_reason(exc)}. Stop what holds that "
            "address, or choose another with --port (ORCH_PORT) / --host (ORCH_HOST)"
        ) from None
    # with --port 0 the system chose one: tell that one
    bound = [address[1] for address in runner.addresses if isinstance(address, tuple)]
    log.info("orchestrator listening on http://%s:%d", host, bound[0] if bound else port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        log.info("stopping: no new requests, finishing in-flight ones")
    finally:
        await runner.cleanup()
        log.info("stopped")


def redis_location(url: str | None) -> str:
    """``host:port/db`` of a Redis URL, without its credentials, for messages."""
    if not url:
        return "the embedded store"
    if is_cluster_url(url):
        return "the cluster " + ",".join(f"{h}:{p}" for h, p in seeds(url)[0])
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    try:
        port = parts.port or 6379
    except ValueError:
        return host
    return f"{host}:{port}{parts.path or '/0'}"


def _reason(exc: OSError) -> str:
    # asyncio's own text repeats the address: "error while attempting to bind on address ..."
    return os.strerror(exc.errno).lower() if exc.errno else str(exc)
