"""``Expiry``: the timeouts of parked long-polls, one timer per tick rather than one per poll.

A poll's timeout is the longest its worker will wait. Each is let go a little before it:
``LEAD`` of its wait early (at most ``LEAD_MAX_S``), rounded down to a multiple of ``TICK_S``
so that every poll due in one tick is let go by one callback; a short poll, whose lead is
less than a tick, keeps a timer of its own. Never later than asked, then, and the lead absorbs
what comes after the timer: under a burst, 10,000 answers written at once and read by a busy
client take a second (``docs/benchmarks.md``). A poll answered early costs its worker one more
request a little sooner; one answered late holds it past the time it gave. Ten thousand polls
parked in a burst cost a few dozen timers, and are let go in batches.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

W = TypeVar("W", bound=Hashable)

TICK_S = 0.1
LEAD = 0.05
LEAD_MAX_S = 0.5


class Expiry(Generic[W]):
    def __init__(self, expire: Callable[[W], None], tick_s: float = TICK_S) -> None:
        self._expire = expire
        self.tick_s = tick_s
        self._due: dict[float, dict[W, None]] = {}
        """Tick (when it fires) → the waiters it lets go (a dict: one leaves in O(1), in any
        order)."""
        self._timers: dict[float, asyncio.TimerHandle] = {}

    def add(self, waiter: W, deadline: float, wait_s: float) -> float:
        """Let ``waiter``, which waits ``wait_s`` in all, go shortly before ``deadline`` (the
        event loop's clock); the tick, for ``remove``."""
        lead = min(wait_s * LEAD, LEAD_MAX_S)
        earliest = deadline - lead
        tick = math.ceil(earliest / self.tick_s) * self.tick_s
        if tick > deadline:  # no tick starts within its lead: a timer of its own
            tick = earliest
        due = self._due.get(tick)
        if due is None:
            due = self._due[tick] = {}
            loop = asyncio.get_running_loop()
            self._timers[tick] = loop.call_at(tick, self._fire, tick)
        due[waiter] = None
        return tick

    def remove(self, waiter: W, tick: float) -> None:
        """``waiter`` was answered before its tick (or has just been let go)."""
        due = self._due.get(tick)
        if due is None:
            return
        due.pop(waiter, None)
        if not due:
            del self._due[tick]
            self._timers.pop(tick).cancel()

    def timers(self) -> int:
        return len(self._timers)

    def _fire(self, tick: float) -> None:
        self._timers.pop(tick, None)
        for waiter in self._due.pop(tick, {}):
            self._expire(waiter)
