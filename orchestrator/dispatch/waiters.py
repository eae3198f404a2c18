"""Parks long-polling workers in memory and hands them tasks when some arrive.

A waiting worker costs a future, not a Redis connection: claims happen only when a wake-up for
one of its task types arrives (from this process, or from another one over the bus), plus a
slow re-check in case a wake-up was lost.

A wake-up names a queue: a task type, or ``type#requirements`` (``engine/requires.py``). Only
waiters whose tags and labels meet the requirements are served for it; a claim takes from
every queue of the type the worker meets, so a waiter whose claim comes back empty shows that
all the woken queues it meets are empty, and those are done with.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field

from orchestrator.dispatch.claim_gate import ClaimGate
from orchestrator.dispatch.expiry import Expiry
from orchestrator.engine.requires import met_by, split

log = logging.getLogger("orchestrator.dispatch")


@dataclass(frozen=True)
class WorkerProfile:
    """What a worker offers: its skills (task types), tags and labels."""

    worker_id: str
    skills: tuple[str, ...]
    tags: frozenset[str] = frozenset()
    labels: frozenset[tuple[str, str]] = frozenset()

    def meets(self, encoding: str) -> bool:
        return met_by(encoding, self.tags, self.labels)


Claim = Callable[[str, WorkerProfile, int], Awaitable[list[bytes]]]
"""(task type, worker, how many at most) -> task payloads, none when the queues it may take
from are empty (or the type is at a limit)."""


@dataclass(eq=False)
class Waiter:
    profile: WorkerProfile
    want: int = 1
    """Tasks it takes at most (a batched long-poll): it waits for the first only."""
    future: asyncio.Future[list[bytes]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    claiming: bool = False
    listed: bool = False
    """In ``Dispatcher._waiting`` (counted in ``waiting``)."""
    expired: bool = False
    missed: bool = False
    """A wake-up for it came while its own first claims ran: claim once more before parking."""
    served_by: str = ""
    """The task type whose wake-up answered it (its queues are empty, or at a limit, if that
    claim brought fewer than ``want``)."""

    @property
    def skills(self) -> tuple[str, ...]:
        return self.profile.skills


class Dispatcher:
    def __init__(
        self,
        claim: Claim,
        gate: ClaimGate | None = None,
        publish: Callable[[str], Coroutine[object, object, None]] | None = None,
    ) -> None:
        self._claim = claim
        self._publish = publish
        """Tells the other processes of a wake-up (``will_serve``): none, then never asked."""
        self._kept: Counter[str] = Counter()
        """Task type → wake-ups ``will_serve`` kept from the other processes, not come yet."""
        self._unpublished: set[str] = set()
        """Task types with such a wake-up pending: published if no claim here shows it
        served (``_serve``)."""
        self._telling: set[asyncio.Task[None]] = set()
        self._gate = gate
        """The gate ``claim`` goes through: told of every wake-up, as it may answer "empty"
        without a claim until one comes (``claim_gate.py``)."""
        self._waiting: dict[str, dict[Waiter, None]] = {}
        """Task type → its waiters, first come first (a dict: one leaves in O(1), and
        10,000 leaving out of order cost no scans)."""
        self._serving: dict[str, asyncio.Task[None]] = {}
        self._pending: dict[str, set[str]] = {}
        """Task type → requirement encodings woken and not served yet ("": no requirements,
        which every waiter meets)."""
        self._closed = False
        self._listed = 0
        """Waiters in ``_waiting`` (each once, whatever its skills): read every 0.1 s by a
        status poll, which must not walk 10,000 of them."""
        self._expiry: Expiry[Waiter] = Expiry(self._expire)

    @property
    def waiting(self) -> int:
        return self._listed

    def waiting_types(self) -> list[str]:
        return [t for t, q in self._waiting.items() if q]

    async def next_task(self, worker: WorkerProfile, wait_s: float) -> bytes | None:
        """A task for one of the worker's skills, waiting up to ``wait_s`` seconds; None if
        none came."""
        payloads = await self.next_tasks(worker, wait_s, 1)
        return payloads[0] if payloads else None

    async def next_tasks(
        self, worker: WorkerProfile, wait_s: float, want: int, *, since: float | None = None
    ) -> list[bytes]:
        """Up to ``want`` tasks for the worker's skills: waits up to ``wait_s`` seconds for the
        first, then takes only those ready now. Empty if none came. ``since``: when the wait
        began (the event loop's clock; by default now), so that the time the request took to
        get here counts in ``wait_s``."""
        loop = asyncio.get_running_loop()
        deadline = (loop.time() if since is None else since) + wait_s
        payloads, served_by = await self._wait(worker, deadline, wait_s, want)
        if served_by and 0 < len(payloads) < want:
            # A wake-up of one type answered it: its other types may have tasks ready too.
            others = tuple(s for s in worker.skills if s != served_by)
            await self._take(others, worker, payloads, want)
        return payloads

    async def ready_tasks(self, worker: WorkerProfile, want: int) -> list[bytes]:
        """Up to ``want`` tasks of the worker's skills ready now, without waiting: for a
        worker that asks with a result, for the slot that result frees (``api/ws.py``).

        None while a poll for one of those skills is parked here: its queues are empty then
        (a task queued would have woken it), and a claim would find nothing at the price of
        a round trip. So the claims go only to a fleet that is busy, whose queues fill."""
        got: list[bytes] = []
        if self._closed or any(self._waiting.get(skill) for skill in worker.skills):
            return got
        await self._take(worker.skills, worker, got, want)
        return got

    async def _take(
        self, skills: tuple[str, ...], worker: WorkerProfile, got: list[bytes], want: int
    ) -> None:
        """Claims of ``skills`` in turn into ``got``, until it holds ``want`` tasks. A claim
        that fails once ``got`` holds some ends it: those are leased, and are handed over."""
        for skill in skills:
            if len(got) >= want:
                return
            try:
                got += await self._claim(skill, worker, want - len(got))
            except Exception as exc:
                if not got:
                    raise
                log.warning("claim of %s failed: %s", skill, exc)
                return

    async def _wait(
        self, worker: WorkerProfile, deadline: float, wait_s: float, want: int
    ) -> tuple[list[bytes], str]:
        """What the first claims or a wake-up brought, and the type of that wake-up ("" when
        the first claims, which try every type, brought them)."""
        if self._closed:
            return [], ""
        # Listed (but marked claiming, so not served) before the first claims: a wake-up that
        # comes while they run sets ``missed`` instead of being lost.
        waiter = Waiter(worker, want, claiming=True, listed=True)
        self._listed += 1
        for skill in worker.skills:
            self._waiting.setdefault(skill, {})[waiter] = None
        try:
            payloads = await self._first_claims(waiter)
        except BaseException:
            self._forget(waiter)
            raise
        if payloads or self._closed:
            self._forget(waiter)
            return payloads, ""
        waiter.claiming = False
        # A shared timer rather than wait_for: thousands of polls that time out together
        # cost a callback each, not a raised TimeoutError and the unwinding of a cancelled
        # wait (``expiry.py``). Its time counts from the request, not from here: a burst of
        # polls waits in line for the first claims, and a worker counts its timeout from
        # when it asked.
        tick = self._expiry.add(waiter, deadline, wait_s)
        try:
            # shielded: a poll that goes away leaves the future to a claim in flight for it
            return await asyncio.shield(waiter.future), waiter.served_by
        finally:
            self._expiry.remove(waiter, tick)
            self._forget(waiter)

    @staticmethod
    def _expire(waiter: Waiter) -> None:
        """Its wait ran out: "no task", now or, when a claim is in flight for it, that
        claim's outcome (``_serve`` answers an expired waiter whatever it brought)."""
        waiter.expired = True
        if not waiter.claiming and not waiter.future.done():
            waiter.future.set_result([])

    async def _first_claims(self, waiter: Waiter) -> list[bytes]:
        got: list[bytes] = []
        missed = True
        while missed and not got:
            waiter.missed = False
            await self._take(waiter.skills, waiter.profile, got, waiter.want)
            missed = waiter.missed
        return got

    def _forget(self, waiter: Waiter) -> None:
        if not waiter.listed:
            return
        waiter.listed = False
        self._listed -= 1
        for skill in waiter.skills:
            queue = self._waiting.get(skill)
            if queue is not None:
                queue.pop(waiter, None)
                if not queue:
                    del self._waiting[skill]

    def will_serve(self, queue: str) -> bool:
        """Whether the other processes need not hear of a task of ``queue`` that this process
        is about to queue: yes when a parked poll here is free to claim it. Its ``wake``
        must follow (once the task is stored); should no claim here show the task served,
        the wake-up is published then, late but not lost. Only for queues with no
        requirements, whose routes every process knows already."""
        if self._publish is None or self._closed or "#" in queue:
            return False
        for waiter in self._waiting.get(queue, ()):
            if not waiter.claiming and not waiter.future.done():
                self._kept[queue] += 1
                return True
        return False

    def wake(self, queue: str, *, heard: bool = False) -> None:
        """A task of ``queue`` (a task type, or ``type#requirements``) may be ready; serve
        the waiters of that type that meet its requirements. ``heard``: not that of a task
        this process queued (from another process, a re-check), so none ``will_serve`` kept."""
        task_type, encoding = split(queue)
        if self._gate is not None:  # first: the claims below must not take "known empty"
            self._gate.woken(task_type)
        kept = 0 if heard else self._kept.pop(queue, 0)
        if kept > 1:
            self._kept[queue] = kept - 1
        waiting = self._waiting.get(task_type)
        if self._closed or not waiting:
            if kept:
                self._tell_others(queue)
            return
        if kept:
            self._unpublished.add(task_type)
        for waiter in waiting:
            # its claim in flight may have looked before this task was there
            if waiter.claiming and waiter.profile.meets(encoding):
                waiter.missed = True
        self._pending.setdefault(task_type, set()).add(encoding)
        running = self._serving.get(task_type)
        if running is None or running.done():
            self._serving[task_type] = asyncio.create_task(self._serve(task_type))

    def wake_all(self) -> None:
        """Wake-ups may have been lost: every parked poll claims again, and so do new ones."""
        if self._gate is not None:
            self._gate.forget()
        for task_type in list(self._waiting):
            self.wake(task_type, heard=True)

    async def _serve(self, task_type: str) -> None:
        pending = self._pending.setdefault(task_type, set())
        while pending:
            waiter = self._first_free(task_type, pending)
            if waiter is None:
                break
            waiter.claiming = True
            waiter.served_by = task_type
            payloads: list[bytes] = []
            failed = False
            try:
                payloads = await self._claim(task_type, waiter.profile, waiter.want)
            except Exception as exc:
                failed = True
                log.warning("claim of %s failed: %s", task_type, exc)
            finally:
                waiter.claiming = False
                if not waiter.future.done() and (payloads or waiter.expired or self._closed):
                    waiter.future.set_result(payloads)
                    self._forget(waiter)
            if not failed and not waiter.missed and len(payloads) < waiter.want:
                # sent after the wake-ups (none came while it ran), it emptied the queue
                self._unpublished.discard(task_type)
            if not payloads:
                # every queue this waiter may take from was empty (or the type is at a
                # limit): the wake-ups it meets are served; others may remain for others
                pending.difference_update({e for e in pending if waiter.profile.meets(e)})
                if waiter.missed:  # ... unless one came while the claim ran: look again
                    waiter.missed = False
                    for skill in waiter.skills:
                        self.wake(skill, heard=True)
            elif waiter.future.result() is not payloads:
                # The future was answered elsewhere (shutdown): the lease expires and the
                # task goes to another worker.
                log.warning("claimed a task for a gone waiter; its lease will expire")
        # wake-ups no parked waiter meets are dropped: a waiter that could take them would
        # have claimed them itself before parking
        pending.clear()
        if task_type in self._unpublished:  # ... here: another process's may
            self._unpublished.discard(task_type)
            self._tell_others(task_type)

    def _tell_others(self, queue: str) -> None:
        if self._publish is not None:
            task = asyncio.create_task(self._publish(queue))
            self._telling.add(task)
            task.add_done_callback(self._told)

    def _told(self, task: asyncio.Task[None]) -> None:
        self._telling.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("wake-up of other processes failed: %s", task.exception())

    def _first_free(self, task_type: str, pending: set[str]) -> Waiter | None:
        for waiter in self._waiting.get(task_type, ()):
            if waiter.future.done() or waiter.claiming:
                continue
            if any(waiter.profile.meets(e) for e in pending):
                return waiter
        return None

    def close(self) -> None:
        """Answer every parked long-poll with "no task" (shutdown)."""
        self._closed = True
        for queue in self._waiting.values():
            for waiter in queue:
                if not waiter.future.done() and not waiter.claiming:
                    waiter.future.set_result([])
        for task in self._serving.values():
            task.cancel()
