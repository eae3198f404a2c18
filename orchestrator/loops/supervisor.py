"""``run_every``: one supervised loop per duty."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("orchestrator.loops")


async def run_every(name: str, interval_s: float, duty: Callable[[], Awaitable[None]]) -> None:
    """Run ``duty`` every ``interval_s`` until cancelled; a failure is logged, not fatal.

    Cancellation is never caught, so shutdown stops the loop at once.
    """
    failures = 0
    while True:
        try:
            await duty()
            failures = 0
        except Exception as exc:
            failures += 1
            # Log the first failure in full, then only every 20th: Redis may be down a while.
            if failures == 1:
                log.exception("%s failed", name)
            elif failures % 20 == 0:
                log.error("%s still failing (%d times): %s", name, failures, exc)
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # redis-py can swallow a CancelledError mid-command; honour the request anyway.
            raise asyncio.CancelledError
        await asyncio.sleep(interval_s)
