"""``run_every``: one supervised loop per duty."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

log = logging.getLogger("orchestrator.loops")


async def run_every(name: str, interval_s: float, duty: Callable[[], Awaitable[None]]) -> None:
    """Run ``duty`` every ``interval_s`` until cancelled; a failure is logged, not fatal.

    Storage being unreachable is an outage, not a bug: one WARNING line when it starts and
    one INFO line when the duty works again, never a traceback. Any other failure is logged
    in full the first time, then every 20th time.

    Cancellation is never caught, so shutdown stops the loop at once.
    """
    failures = 0
    outage_since: float | None = None
    while True:
        try:
            await duty()
            if outage_since is not None:
                log.info(
                    "%s: storage is back after %.1f s; running again",
                    name,
                    time.monotonic() - outage_since,
                )
            failures, outage_since = 0, None
        except (RedisError, OSError) as exc:
            if outage_since is None:
                outage_since = time.monotonic()
                log.warning(
                    "%s: storage unreachable (%s); retrying every %g s, quietly until it is back",
                    name,
                    exc,
                    interval_s,
                )
        except Exception as exc:
            failures += 1
            # Log the first failure in full, then only every 20th: it may repeat every tick.
            if failures == 1:
                log.exception("%s failed", name)
            elif failures % 20 == 0:
                log.error("%s still failing (%d times): %s", name, failures, exc)
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # redis-py can swallow a CancelledError mid-command; honour the request anyway.
            raise asyncio.CancelledError
        await asyncio.sleep(interval_s)
