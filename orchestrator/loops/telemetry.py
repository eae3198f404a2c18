"""Background duties of the metrics: event-loop lag, the stats flush and the stats recount."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from redis.exceptions import RedisError

from orchestrator.loops.supervisor import run_every
from orchestrator.metrics import Metrics
from orchestrator.storage.stats import JobStats

log = logging.getLogger("orchestrator.telemetry")

LAG_INTERVAL_S = 0.5
FLUSH_INTERVAL_S = 1.0
"""Also the most a process killed with SIGKILL loses of the job counts (see storage/stats)."""
RECOUNT_INTERVAL_S = 600.0


async def measure_lag(record: Callable[[float], None], interval_s: float = LAG_INTERVAL_S) -> None:
    """Sleeps ``interval_s`` over and over; how late each wake-up comes is the time the loop
    was busy with something else (a blocking call, a CPU-bound handler)."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(interval_s)
        record(max(0.0, loop.time() - started - interval_s))


async def recount_every(stats: JobStats, interval_s: float, owner: str) -> None:
    # Not at start-up: a recount racing the first jobs of a fresh deployment (or of a test)
    # would count them twice, and the counts are kept up to date from the first job anyway.
    await asyncio.sleep(interval_s)

    async def recount() -> None:
        await stats.recount_if_due(interval_s, owner)

    await run_every("stats recount", interval_s, recount)


def telemetry(
    metrics: Metrics, stats: JobStats, owner: str
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx`` entry. Add it after the one that closes the store: contexts exit in
    reverse order, so the last flush still has a connection."""

    async def background(_: web.Application) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(measure_lag(metrics.event_loop_lag)),
            asyncio.create_task(run_every("stats flush", FLUSH_INTERVAL_S, stats.flush)),
            asyncio.create_task(recount_every(stats, RECOUNT_INTERVAL_S, owner)),
        ]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await stats.flush()
        except (RedisError, OSError) as exc:
            log.warning("last job-count flush failed (the next recount corrects it): %s", exc)

    return background
