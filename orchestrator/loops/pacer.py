"""``Pacer``: when a sweep runs next, so that an idle process costs Redis next to nothing.

A sweep looks for stored work that has come due (expired leases, backoffs, timers, webhook
retries). Most of that work is written by this process, which then knows when it comes due and
says so (``poke``); the sweep runs at that time, not on a fixed tick. What it cannot know is
work left by another process that died: a sweep that finds nothing therefore still runs every
``idle_s``, which bounds how late such work is picked up. A sweep that finds work runs again
``base_s`` later, in case there is more.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time


class Pacer:
    def __init__(self, base_s: float, idle_s: float) -> None:
        self.base_s = base_s
        self.idle_s = max(base_s, idle_s)
        self._due: list[float] = []
        """Heap of the times pokes named, rounded up to ``base_s`` so that it stays short."""
        self._slots: set[float] = set()
        self._started = float("-inf")
        self._last = float("-inf")
        self._next = 0.0
        """When the next sweep runs (epoch seconds): at once, the first time."""
        self._poked = asyncio.Event()

    def poke(self, at: float | None = None) -> None:
        """Something comes due at ``at`` (epoch seconds; None: now): sweep then, though never
        sooner than ``base_s`` after the last sweep."""
        at = time.time() if at is None else at
        slot = math.ceil(at / self.base_s) * self.base_s  # rounded up: not before it is due
        if slot not in self._slots:
            self._slots.add(slot)
            heapq.heappush(self._due, slot)
        at = max(slot, self._last + self.base_s)
        if at < self._next:
            self._next = at
            self._poked.set()

    def starting(self) -> None:
        """A sweep starts: it serves every poke due by now."""
        self._started = time.time()

    def ran(self, found: bool) -> None:
        """The sweep ended; ``found``: it had work to do (there may be more)."""
        while self._due and self._due[0] <= self._started:
            self._slots.discard(heapq.heappop(self._due))
        self._last = now = time.time()
        self._next = now + (self.base_s if found else self.idle_s)
        if self._due:
            self._next = min(self._next, max(self._due[0], now + self.base_s))

    async def wait(self) -> None:
        """Until the next sweep is due; a poke for an earlier time cuts it short."""
        while (delay := self._next - time.time()) > 0:
            self._poked.clear()
            try:
                await asyncio.wait_for(self._poked.wait(), delay)
            except TimeoutError:
                return
