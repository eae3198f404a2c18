"""``run_every`` and ``run_paced``: one supervised loop per duty."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.exceptions import RedisError

from orchestrator.loops.pacer import Pacer

log = logging.getLogger("orchestrator.loops")

T = TypeVar("T")


async def run_every(name: str, interval_s: float, duty: Callable[[], Awaitable[None]]) -> None:
    """Run ``duty`` every ``interval_s`` until cancelled; a failure is logged, not fatal.

    Storage being unreachable is an outage, not a bug: one WARNING line when it starts and
    one INFO line when the duty works again, never a traceback. Any other failure is logged
    in full the first time, then every 20th time.

    Cancellation is never caught, so shutdown stops the loop at once.
    """
    guard = _Guard(name, interval_s)
    while True:
        await guard.run(duty)
        await asyncio.sleep(interval_s)


async def run_paced(name: str, pacer: Pacer, duty: Callable[[], Awaitable[bool]]) -> None:
    """Run ``duty`` when ``pacer`` says, until cancelled; ``duty`` returns whether it found
    work. Failures as in ``run_every``; after one, the duty runs again at the base pace."""
    guard = _Guard(name, pacer.base_s)
    while True:
        pacer.starting()
        found = await guard.run(duty)
        pacer.ran(found is not False)
        await pacer.wait()


class _Guard:
    def __init__(self, name: str, interval_s: float) -> None:
        self.name, self.interval_s = name, interval_s
        self.failures = 0
        self.outage_since: float | None = None

    async def run(self, duty: Callable[[], Awaitable[T]]) -> T | None:
        """``duty``'s answer; None when it failed (logged)."""
        name = self.name
        answer = None
        try:
            answer = await duty()
            if self.outage_since is not None:
                log.info(
                    "%s: storage is back after %.1f s; running again",
                    name,
                    time.monotonic() - self.outage_since,
                )
            self.failures, self.outage_since = 0, None
        except (RedisError, OSError) as exc:
            if self.outage_since is None:
                self.outage_since = time.monotonic()
                log.warning(
                    "%s: storage unreachable (%s); retrying every %g s, quietly until it is back",
                    name,
                    exc,
                    self.interval_s,
                )
        except Exception as exc:
            self.failures += 1
            # Log the first failure in full, then only every 20th: it may repeat every tick.
            if self.failures == 1:
                log.exception("%s failed", name)
            elif self.failures % 20 == 0:
                log.error("%s still failing (%d times): %s", name, self.failures, exc)
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # redis-py can swallow a CancelledError mid-command; honour the request anyway.
            raise asyncio.CancelledError
        return answer
