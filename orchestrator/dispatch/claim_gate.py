"""``ClaimGate``: a burst of long-polls for one queue sends a few claims to Redis, not one each.

Every long-poll first claims from Redis, and most find the queue empty. Ten thousand workers
polling at once would send ten thousand claims, each waiting for one of the process's Redis
connections (and failing after the pool's timeout). Through the gate, at most ``width`` claims
of one queue are in flight; a poll that finds them all busy waits, and takes "empty" from any
claim that was *sent after it arrived* and found the queue empty: the queue was empty at a
moment after the poll came, exactly what its own claim would have shown. Otherwise it sends its
own claim when one finishes. Claims that find work pass straight through while fewer than
``width`` are in flight, so a busy queue is not slowed down.

A claim that found a queue empty also answers the polls that come after it, with no claim,
for as long as no wake-up of the queue's task type has been heard since that claim was sent
(``woken``) and nothing made the process forget (``forget``: a pub/sub reconnect, the periodic
re-check). Every task queued after the claim looked is followed by a wake-up in this process
(from the commit that queued it, or over the bus from another process), and such a poll is
parked by then (``Dispatcher``): the wake-up serves it. So polls arriving one at a time on an
idle queue cost no claim each, and a task queued in between still reaches them at once.
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
        self.empty_as_of: tuple[int, int] | None = None
        """``ClaimGate._mark`` when the last claim that found the queue empty was sent, if it
        heard no wake-up before its answer came: while the mark is the same, it is empty."""
        self.waiting: deque[tuple[int, asyncio.Future[bool]]] = deque()
        """Polls that found every slot busy, in the order they came: ``sent`` when each came
        (never decreasing along the line), and its turn: True when a claim sent after it found
        the queue empty, False when a slot is kept for its own claim."""


class ClaimGate:
    def __init__(self, width: int = WIDTH) -> None:
        self.width = width
        self._queues: dict[Hashable, _Queue] = {}
        """One per queue (task type and requirement sets met) ever claimed from: few."""
        self._wakes: dict[str, int] = {}
        """Task type → wake-ups heard for it."""
        self._era = 0
        """Bumped by ``forget``: every empty queue is claimed from again."""

    def woken(self, task_type: str) -> None:
        """A task of ``task_type`` may have been queued: its queues are no longer known empty."""
        self._wakes[task_type] = self._wakes.get(task_type, 0) + 1

    def forget(self) -> None:
        """Wake-ups may have been lost: no queue is known empty any more."""
        self._era += 1

    def _mark(self, task_type: str) -> tuple[int, int]:
        return self._era, self._wakes.get(task_type, 0)

    async def claim(
        self,
        key: Hashable,
        claim: Callable[[], Awaitable[T]],
        emptied: Callable[[T], bool] = lambda answer: answer is None,
        *,
        woken_by: str | None = None,
    ) -> T | None:
        """``claim()``'s answer, or None when a claim of the queue ``key`` sent after this
        call began found it empty (``emptied`` of its answer: by default, None). With
        ``woken_by`` (the task type whose wake-ups announce the queue's tasks), also None
        when it is known empty since an earlier claim (the module's docstring): the caller
        must then be one that such a wake-up serves."""
        q = self._queues.get(key)
        if q is None:
            q = self._queues[key] = _Queue()
        if woken_by is not None and q.empty_as_of == self._mark(woken_by):
            return None
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
        mark = self._mark(woken_by) if woken_by is not None else None
        try:
            answer = await claim()
        except BaseException:
            self._release(q)
            raise
        if emptied(answer):
            q.empty_at = max(q.empty_at, seq)
            if mark is not None and woken_by is not None and mark == self._mark(woken_by):
                # no wake-up came while it looked: one that comes later voids the mark
                q.empty_as_of = mark
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
