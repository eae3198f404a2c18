"""``PassBatch``: what callers ask for during one pass of the event loop, done as one.

The first ask of a pass starts a task; its first step runs on the loop's next pass, so every
ask made in this pass (the requests and results that arrived together, whose awaits returned
together) goes with it. ``run`` gets them all, each with the future its caller awaits, and
must settle every future not done already (done: its caller was cancelled and gave up).
Used by the Redis wire (round trips sent in one write) and by a worker's socket (its results'
next tasks taken in one claim).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

A = TypeVar("A")
R = TypeVar("R")

Asked = list[tuple[A, "asyncio.Future[R]"]]


class PassBatch(Generic[A, R]):
    def __init__(self, run: Callable[[Asked[A, R]], Awaitable[None]]) -> None:
        self._run = run
        self._asked: Asked[A, R] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._batches: set[asyncio.Task[None]] = set()

    def submit(self, item: A) -> asyncio.Future[R]:
        """The future ``item``'s answer settles; cancelling it gives up (as a cancelled
        await of it does)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # what a closed loop left asked will never be run
            self._asked, self._loop = [], loop
        answer: asyncio.Future[R] = loop.create_future()
        self._asked.append((item, answer))
        if len(self._asked) == 1:
            batch = asyncio.create_task(self._flush())
            self._batches.add(batch)
            batch.add_done_callback(self._batches.discard)
        return answer

    @property
    def running(self) -> bool:
        """Whether a batch is asked for or being run."""
        return bool(self._asked or self._batches)

    async def _flush(self) -> None:
        asked, self._asked = self._asked, []
        await self._run(asked)
