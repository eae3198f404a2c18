"""``ClaimGate``: a burst of long-polls for one queue sends a few claims to Redis, not one each.

Every long-poll first claims from Redis, and most find the queue empty. Ten thousand workers
polling at once would send ten thousand claims, each waiting for one of the process's Redis
connections (and failing after the pool's timeout). Through the gate, at most ``width`` claims
of one queue are in flight; a poll that finds them all busy waits, and takes "empty" from any
claim that was *sent after it arrived* and found the queue empty: the queue was empty at a
moment after the poll came, exactly what its own claim would have shown. Otherwise it sends its
own claim when one finishes. Claims that find work pass straight through while fewer than
``width`` are in flight, so a busy queue is not slowed down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

WIDTH = 8
"""Claims of one queue in flight at once, per process."""


class _Queue:
    def __init__(self) -> None:
        self.sent = 0
        """Claims sent so far (their sequence numbers are 1, 2, ...)."""
        self.empty_at = 0
        """The highest sequence number of a claim that found the queue empty."""
        self.in_flight = 0
        self.changed = asyncio.Condition()


class ClaimGate:
    def __init__(self, width: int = WIDTH) -> None:
        self.width = width
        self._queues: dict[Hashable, _Queue] = {}
        """One per queue (task type and requirement sets met) ever claimed from: few."""

    async def claim(
        self,
        key: Hashable,
        claim: Callable[[], Awaitable[T]],
        emptied: Callable[[T], bool] = lambda answer: answer is None,
    ) -> T | None:
        """``claim()``'s answer, or None when a claim of the queue ``key`` sent after this
        call began found it empty (``emptied`` of its answer: by default, None)."""
        q = self._queues.get(key)
        if q is None:
            q = self._queues[key] = _Queue()
        arrived = q.sent
        if q.in_flight >= self.width:
            async with q.changed:
                await q.changed.wait_for(lambda: q.empty_at > arrived or q.in_flight < self.width)
            if q.empty_at > arrived:
                return None
        # no await from the check above to here: the next waiter sees this claim in flight
        q.sent += 1
        seq = q.sent
        q.in_flight += 1
        try:
            answer = await claim()
        except BaseException:
            await self._done(q)
            raise
        if emptied(answer):
            q.empty_at = max(q.empty_at, seq)
        await self._done(q)
        return answer

    @staticmethod
    async def _done(q: _Queue) -> None:
        q.in_flight -= 1
        async with q.changed:
            q.changed.notify_all()
