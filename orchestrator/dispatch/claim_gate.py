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
from collections import deque
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
        """Claims sent and not answered, and slots kept for waiters whose turn came."""
        self.waiting: deque[tuple[int, asyncio.Future[bool]]] = deque()
        """Polls that found every slot busy, in the order they came: ``sent`` when each came
        (never decreasing along the line), and its turn: True when a claim sent after it found
        the queue empty, False when a slot is kept for its own claim."""


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
        if q.in_flight < self.width:
            q.in_flight += 1
        else:
            # One future each, answered in line by ``_release``: a burst of thousands costs
            # each poll one wake-up, not one per claim that ends (a Condition's notify_all).
            turn: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            q.waiting.append((q.sent, turn))
            try:
                if await turn:
                    return None
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled() and not turn.result():
                    self._release(q)  # the slot kept for it goes to the next in line
                raise
        # no await from taking the slot to here: a poll that comes next sees this claim sent
        q.sent += 1
        seq = q.sent
        try:
            answer = await claim()
        except BaseException:
            self._release(q)
            raise
        if emptied(answer):
            q.empty_at = max(q.empty_at, seq)
        self._release(q)
        return answer

    def _release(self, q: _Queue) -> None:
        """A slot is free: answer the polls a claim sent after them found empty for, then
        keep the free slots for the next in line."""
        q.in_flight -= 1
        while q.waiting:
            arrived, turn = q.waiting[0]
            if turn.done():  # its poll was cancelled
                q.waiting.popleft()
            elif q.empty_at > arrived:
                q.waiting.popleft()
                turn.set_result(True)
            elif q.in_flight < self.width:
                q.waiting.popleft()
                q.in_flight += 1
                turn.set_result(False)
            else:
                return
