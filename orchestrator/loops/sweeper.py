"""Lease expiry, backoff promotion and timers (dispatch and result timeouts)."""

from __future__ import annotations

import asyncio
import functools
import logging
import time

from orchestrator.dispatch.waiters import Dispatcher
from orchestrator.engine.effects import Effects
from orchestrator.engine.model import Job
from orchestrator.loops.leftovers import Leftovers
from orchestrator.loops.pacer import Pacer
from orchestrator.shell import leases, timers
from orchestrator.shell.jobs import JobRunner

log = logging.getLogger("orchestrator.sweeper")

BATCH = 200
TIMER_HOLD_S = 30.0
"""How long a timer a process took stays hidden from the others' sweeps."""
NOW_HOLD_S = 3.0
"""The same for timers taken right after the commit that armed them (``fire_due_now``): a
parent whose child ended waits this long, not ``TIMER_HOLD_S``, when that process dies before
firing them; firing takes milliseconds, and one fired twice changes its job once."""


class Sweeper:
    def __init__(self, runner: JobRunner, dispatcher: Dispatcher) -> None:
        self.runner = runner
        self.store = runner.store
        self.dispatcher = dispatcher
        self._types: set[str] = set()
        self._background: set[asyncio.Task[bool]] = set()
        self._timers_left = Leftovers()
        self._leases_left: dict[str, Leftovers] = {}
        self._types_at = 0.0
        settings = runner.settings
        # Idle sweeps find only what a dead process left; no slower than a lease, so that a
        # sweep is never more than one lease length behind.
        idle_s = min(settings.sweeps.idle_interval_s, settings.workers.lease_s)
        self.pacer = Pacer(settings.sweeps.interval_s, idle_s)
        runner.comes_due = self.pacer.poke

    async def _task_types(self) -> set[str]:
        # Read every sweep (one SMEMBERS): a type first queued by another process must get
        # its backoffs and lease expiries handled on time too.
        return await self.store.task_types()

    async def sweep(self) -> bool:
        """One sweep; returns whether it found anything to do."""
        found = False
        for task_type in sorted(await self._task_types()):
            found |= await self.promote(task_type)
            found |= await self.expire_leases(task_type)
        return await self.fire_timers(NOW_HOLD_S) or found

    async def promote(self, task_type: str) -> bool:
        queues = await self.store.promote_delayed(task_type)
        for queue in queues:
            await self.store.publish_wake(queue, self.runner.origin)
            self.dispatcher.wake(queue)
        return bool(queues)

    async def expire_leases(self, task_type: str) -> bool:
        # Taken refs are hidden from other processes for a lease length; a dying sweeper thus
        # delays an expiry by at most that much.
        hold = self.runner.settings.workers.lease_s
        return await self._leases_left.setdefault(task_type, Leftovers()).work_off(
            lambda: self.store.take_due_leases(task_type, BATCH, hold),
            functools.partial(leases.expire_lease, self.runner, task_type),
        )

    async def fire_timers(self, hold_s: float = TIMER_HOLD_S) -> bool:
        return await self._timers_left.work_off(
            lambda: self.store.take_due_timers(BATCH, hold_s),
            functools.partial(timers.fire_timer, self.runner),
        )

    async def fire_due_now(self, job: Job, effects: Effects) -> None:
        """Timers a commit armed for "now" (a child ended, a child must be cancelled) fire at
        once instead of at the next sweep; the sweep still covers a crash in between.

        They are taken as a sweep takes them: firing the member straight away would race
        with a sweep (of any process) taking it too, and run the parent's handler twice."""
        now = time.time()
        if any(at <= now for _, at in effects.timers):
            task = asyncio.create_task(self.fire_timers(NOW_HOLD_S))
            self._background.add(task)
            task.add_done_callback(self._fired_now)

    def _fired_now(self, task: asyncio.Task[bool]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning(
                "firing timers after a commit failed (%s); the next sweep fires them",
                task.exception(),
            )
            self.pacer.poke()

    async def recheck_waiters(self) -> None:
        """Wake-ups can be lost (pub/sub reconnect); parked polls re-check now and then, with
        the requirement sets other processes queued meanwhile (``storage/queues.py``).
        With none parked, the sets are not read (an idle process sends nothing for this):
        a poll that comes later parks and is re-checked with them 2 s later at most, as a
        lost wake-up would have it anyway."""
        if self.dispatcher.waiting:
            await self.store.refresh_routes()
        self.dispatcher.wake_all()
