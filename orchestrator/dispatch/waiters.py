"""Parks long-polling workers in memory and hands them tasks when some arrive.

A waiting worker costs a future, not a Redis connection: claims happen only when a wake-up for
one of its task types arrives (from this process, or from another one over the bus), plus a
slow re-check in case a wake-up was lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger("orchestrator.dispatch")

Claim = Callable[[str, str], Awaitable[bytes | None]]
"""(task type, worker id) -> task payload, or None when the queue is empty."""


@dataclass(eq=False)
class Waiter:
    worker_id: str
    skills: tuple[str, ...]
    future: asyncio.Future[bytes | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    claiming: bool = False
    expired: bool = False


class Dispatcher:
    def __init__(self, claim: Claim) -> None:
        self._claim = claim
        self._waiting: dict[str, deque[Waiter]] = {}
        self._serving: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._closed = False

    @property
    def waiting(self) -> int:
        return len({id(w) for q in self._waiting.values() for w in q})

    def waiting_types(self) -> list[str]:
        return [t for t, q in self._waiting.items() if q]

    async def next_task(
        self, worker_id: str, skills: tuple[str, ...], wait_s: float
    ) -> bytes | None:
        """A task for one of ``skills``, waiting up to ``wait_s`` seconds; None if none came."""
        if self._closed:
            return None
        for skill in skills:
            payload = await self._claim(skill, worker_id)
            if payload is not None:
                return payload
        waiter = Waiter(worker_id, skills)
        for skill in skills:
            self._waiting.setdefault(skill, deque()).append(waiter)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter.future), wait_s)
        except TimeoutError:
            waiter.expired = True
            if waiter.claiming:
                # A claim is in flight for this waiter: take its outcome rather than lose it.
                return await waiter.future
            return None
        finally:
            self._forget(waiter)

    def _forget(self, waiter: Waiter) -> None:
        for skill in waiter.skills:
            queue = self._waiting.get(skill)
            if queue is not None:
                try:
                    queue.remove(waiter)
                except ValueError:
                    pass
                if not queue:
                    del self._waiting[skill]

    def wake(self, task_type: str) -> None:
        """A task of ``task_type`` may be ready; serve the waiters of that type."""
        if self._closed or not self._waiting.get(task_type):
            return
        running = self._serving.get(task_type)
        if running is not None and not running.done():
            self._again.add(task_type)
            return
        self._serving[task_type] = asyncio.create_task(self._serve(task_type))

    def wake_all(self) -> None:
        for task_type in list(self._waiting):
            self.wake(task_type)

    async def _serve(self, task_type: str) -> None:
        while True:
            self._again.discard(task_type)
            while True:
                waiter = self._first_free(task_type)
                if waiter is None:
                    break
                waiter.claiming = True
                payload = None
                try:
                    payload = await self._claim(task_type, waiter.worker_id)
                except Exception as exc:
                    log.warning("claim of %s failed: %s", task_type, exc)
                finally:
                    waiter.claiming = False
                    if not waiter.future.done() and (payload or waiter.expired or self._closed):
                        waiter.future.set_result(payload)
                        self._forget(waiter)
                if payload is None:
                    break
                if waiter.future.result() is not payload:
                    # The future was answered elsewhere (shutdown): the lease expires and the
                    # task goes to another worker.
                    log.warning("claimed a task for a gone waiter; its lease will expire")
            if task_type not in self._again:
                return

    def _first_free(self, task_type: str) -> Waiter | None:
        for waiter in self._waiting.get(task_type, ()):
            if not waiter.future.done() and not waiter.claiming:
                return waiter
        return None

    def close(self) -> None:
        """Answer every parked long-poll with "no task" (shutdown)."""
        self._closed = True
        for queue in self._waiting.values():
            for waiter in queue:
                if not waiter.future.done() and not waiter.claiming:
                    waiter.future.set_result(None)
        for task in self._serving.values():
            task.cancel()
