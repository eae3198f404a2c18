"""Lease expiry, backoff promotion and timers (dispatch and result timeouts)."""

from __future__ import annotations

import logging
import time

from orchestrator.dispatch.waiters import Dispatcher
from orchestrator.runner import JobRunner

log = logging.getLogger("orchestrator.sweeper")

BATCH = 200
TYPES_REFRESH_S = 5.0


class Sweeper:
    def __init__(self, runner: JobRunner, dispatcher: Dispatcher) -> None:
        self.runner = runner
        self.store = runner.store
        self.dispatcher = dispatcher
        self._types: set[str] = set()
        self._types_at = 0.0

    async def _task_types(self) -> set[str]:
        now = time.monotonic()
        if now - self._types_at > TYPES_REFRESH_S:
            self._types = await self.store.task_types()
            self._types_at = now
        return self._types

    async def sweep(self) -> None:
        for task_type in sorted(await self._task_types()):
            await self.promote(task_type)
            await self.expire_leases(task_type)
        await self.fire_timers()

    async def promote(self, task_type: str) -> None:
        if await self.store.promote_delayed(task_type):
            await self.store.publish_wake(task_type, self.runner.origin)
            self.dispatcher.wake(task_type)

    async def expire_leases(self, task_type: str) -> None:
        # Taken refs are hidden from other processes for a lease length; a dying sweeper thus
        # delays an expiry by at most that much.
        hold = self.runner.settings.lease_s
        for ref in await self.store.take_due_leases(task_type, BATCH, hold):
            await self.runner.expire_lease(task_type, ref)

    async def fire_timers(self) -> None:
        for member in await self.store.take_due_timers(BATCH, 30.0):
            await self.runner.fire_timer(member)

    async def recheck_waiters(self) -> None:
        """Wake-ups can be lost (pub/sub reconnect); parked polls re-check now and then."""
        self.dispatcher.wake_all()
