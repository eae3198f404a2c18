"""The ready, delayed and lease queues of each task type, and claims from them.

A part of ``RedisStore`` (a base class), kept apart because it is a concept of its own.

A task type has one ready queue for its tasks without requirements (``{q:<type>}:ready``, as
before routing existed) and one per requirement set tasks were queued with
(``{q:<type>}:ready:<encoding>``, ``engine/requires.py``); the set of those encodings is kept
in ``{q:<type>}:routes``, which only grows. Each process caches it (``routes``): it learns an
encoding when it queues such a task, when a wake-up names one, and by re-reading the sets
(``refresh_routes``, at start-up, after a bus reconnect and every few seconds). A claim hands
the script the queues the worker's tags and labels meet; all share the type's hash slot.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from orchestrator.engine.events import task_leased, task_leased_frame
from orchestrator.engine.requires import met_by, queue, split
from orchestrator.storage import codec
from orchestrator.storage.audience import Audience
from orchestrator.storage.cluster import HINT_GRACE_S
from orchestrator.storage.keys import Keys
from orchestrator.storage.leased import LeasedJobs
from orchestrator.storage.scripts import Scripts
from orchestrator.storage.wire import Wire

_MS = 1000.0
_LEASED_FRAME = task_leased_frame()
"""claim_lease.lua writes the task_leased event into this text: its shape is the engine's."""

DEFER_S = 0.5
"""How soon an entry claimed before its job write landed is claimable again (``_defer``)."""
_BAND = 10_000_000_000_000


def ready_score(priority: int, now: float) -> float:
    """Higher priority first, then first in, first out (mirrors promote.lua)."""
    return (9 - priority) * _BAND + int(now * _MS)


@dataclass(frozen=True)
class Throttled:
    """A claim found tasks but the type is at a limit (``task_types`` in the config)."""

    reason: str
    """``max_in_flight`` or ``max_per_second``."""
    retry_in_s: float
    """When a token is there (``max_per_second``); 0 for ``max_in_flight``, whose room comes
    with a wake-up when a delivery ends."""


@dataclass(frozen=True)
class Claimed:
    """What ``claim_many`` leased, and why it stopped short of ``asked``, if it did."""

    asked: int
    payloads: list[bytes]
    stop: Throttled | None = None
    """The type's limit that held the rest back; None when the queues ran dry (or none
    were held back)."""

    @property
    def emptied(self) -> bool:
        """Whether the queues were found empty (fewer taken than asked, no limit)."""
        return self.stop is None and len(self.payloads) < self.asked


def _throttled(limit: list[int]) -> Throttled:
    """``Throttled`` from a claim script's {'', 0, code, ms} answer."""
    reason = "max_in_flight" if limit[0] == 1 else "max_per_second"
    return Throttled(reason, int(limit[1]) / _MS)


class Queues:
    redis: Any
    keys: Keys
    scripts: Scripts
    routes: dict[str, set[str]]
    """Task type → requirement encodings known to this process (see the module doc)."""
    limited: frozenset[str]
    """Task types with a ``max_in_flight``: the end of a delivery publishes a wake-up."""
    cluster: bool
    """Redis Cluster: a claim is two scripts (the job is in another slot than its queue)."""
    audience: Audience
    leased: LeasedJobs
    """Jobs as this process's claims left them (``leased.py``)."""
    served_here: Callable[[str], bool]
    """Whether a task of the queue, about to be queued, is left to this process's parked
    polls, unpublished: they tell the other processes if they do not take it (set by the
    app: ``Dispatcher.will_serve``)."""
    wire: Wire
    """The hot round trips, a claim's among them (``wire.py``)."""

    # -- requirement sets --------------------------------------------------------------------

    def learn_route(self, queue_name: str) -> None:
        task_type, encoding = split(queue_name)
        if encoding:
            self.routes.setdefault(task_type, set()).add(encoding)

    async def refresh_routes(self) -> None:
        """Re-read every type's requirement sets (one SMEMBERS pipeline)."""
        types = sorted(await self.task_types())
        async with self.redis.pipeline(transaction=False) as pipe:
            for t in types:
                pipe.smembers(self.keys.routes(t))
            found = await pipe.execute()
        for t, encodings in zip(types, found, strict=True):
            if encodings:
                self.routes.setdefault(t, set()).update(e.decode() for e in encodings)

    def routes_met(
        self, task_type: str, tags: frozenset[str], labels: frozenset[tuple[str, str]]
    ) -> list[str]:
        """The known requirement sets of ``task_type`` a worker with these tags and labels
        meets, in a fixed order."""
        return sorted(e for e in self.routes.get(task_type, ()) if met_by(e, tags, labels))

    def queues_of(self, task_type: str) -> list[str]:
        return [task_type, *(queue(task_type, e) for e in sorted(self.routes.get(task_type, ())))]

    # -- claims ------------------------------------------------------------------------------

    async def claim(
        self,
        task_type: str,
        worker_id: str,
        lease_s: float,
        *,
        routes: Iterable[str] = (),
        max_in_flight: int = 0,
        max_per_second: float = 0.0,
    ) -> bytes | Throttled | None:
        """Pops the best ready entry of ``task_type`` (its own queue and those of ``routes``,
        requirement sets the worker meets) and leases it to ``worker_id``.

        Returns the task payload (JSON); None when the queues are empty; ``Throttled`` when
        the type is at a limit. Stale entries (the job moved on, or never got stored) are
        dropped and the next one is tried. One script on one Redis (``claim_lease.lua``); on
        Cluster, where the job is in another slot, ``claim.lua`` then ``lease.lua``.
        """
        found = await self.claim_many(
            task_type,
            worker_id,
            lease_s,
            1,
            routes=routes,
            max_in_flight=max_in_flight,
            max_per_second=max_per_second,
        )
        return found.payloads[0] if found.payloads else found.stop

    async def claim_many(
        self,
        task_type: str,
        worker_id: str,
        lease_s: float,
        count: int,
        *,
        routes: Iterable[str] = (),
        max_in_flight: int = 0,
        max_per_second: float = 0.0,
    ) -> Claimed:
        """As ``claim``, up to ``count`` entries, best first, each leased to ``worker_id``:
        one script call on one Redis, a claim after another on Cluster. It stops at the
        type's limits as a run of single claims would."""
        k = self.keys
        keys = [k.ready(task_type), k.leases(task_type)]
        keys += [k.ready(queue(task_type, r)) for r in routes]
        routed = len(keys) - 2
        if max_per_second > 0:
            keys.append(k.type_bucket(task_type))
        burst = max(1.0, max_per_second)

        def args_at(now: float) -> list[Any]:
            deadline = int((now + lease_s) * _MS)
            return [deadline, routed, max_in_flight, max_per_second, burst, int(now * _MS)]

        payloads: list[bytes] = []
        while len(payloads) < count:
            if not self.cluster:
                now = time.time()
                got, stop = await self._claim_lease(
                    task_type, worker_id, now, keys, args_at(now), count - len(payloads)
                )
                payloads += got
                if stop is True:
                    continue  # it gave up on a run of stale entries: the rest may be live
                return Claimed(count, payloads, stop if isinstance(stop, Throttled) else None)
            one = await self._claim_cluster(task_type, worker_id, keys, args_at)
            if not isinstance(one, bytes):
                return Claimed(count, payloads, one)
            payloads.append(one)
        return Claimed(count, payloads, None)

    async def _claim_cluster(
        self,
        task_type: str,
        worker_id: str,
        keys: list[str],
        args_at: Callable[[float], list[Any]],
    ) -> bytes | Throttled | None:
        """One claim on Cluster: ``claim.lua`` then ``lease.lua``, until a live entry is
        leased or none is left."""
        k = self.keys
        while True:
            now = time.time()
            popped = await self.scripts.claim(keys=keys, args=args_at(now))
            if popped is None:
                return None
            ref, added, *limit = popped
            if not ref:
                return _throttled(limit)
            job_id, task_id, attempt, _ = ref.decode().split("|")
            prefix = codec.branch_prefix(task_id) if task_id.count(".") == 2 else "t_"
            event = task_leased(task_id, int(attempt), worker_id, now)
            payload = await self.scripts.lease(
                keys=[k.job(job_id)],
                args=[
                    prefix,
                    task_id,
                    attempt,
                    worker_id,
                    repr(now),
                    orjson.dumps(event),
                    k.changed_channel,
                    job_id,
                    *codec.LEASED,
                    *codec.ENDED,
                ],
            )
            if payload is not None and payload != 0:
                return bytes(payload)
            if not added:  # the lease entry was there before: maybe a live delivery's
                continue
            if payload == 0 and await self._defer(task_type, ref.decode(), bytes(limit[0]), now):
                continue  # claimable again soon (the sweeper promotes it); try the next one
            await self.drop_lease(task_type, ref.decode())

    async def _defer(self, task_type: str, ref: str, ready_key: bytes, now: float) -> bool:
        """Cluster: puts back an entry whose job is not yet at the revision that wants it,
        due in ``DEFER_S``, unless it has waited so for ``HINT_GRACE_S``. Returns whether it
        was put back (else the caller drops it as stale)."""
        k = self.keys
        delayed = k.delayed(task_type) + ready_key.decode().removeprefix(k.ready(task_type))
        keys = [k.leases(task_type), delayed, k.early(task_type)]
        now_ms = int(now * _MS)
        due = now_ms + int(DEFER_S * _MS)
        put_back = await self.scripts.defer(
            keys=keys, args=[ref, now_ms, due, int(HINT_GRACE_S * _MS)]
        )
        if put_back and task_type in self.limited:  # its lease entry is gone: room
            async with self.redis.pipeline(transaction=False) as pipe:
                self.wake_limited(pipe, [task_type])
                await pipe.execute()
        return bool(put_back)

    async def _claim_lease(
        self,
        task_type: str,
        worker_id: str,
        now: float,
        keys: list[str],
        args: list[Any],
        count: int,
    ) -> tuple[list[bytes], Throttled | bool]:
        """One ``claim_lease.lua`` call for up to ``count`` tasks: the payloads leased, and
        why it stopped: ``Throttled`` at a limit, True when it gave up on a run of stale
        entries and is to be called again, False when it leased all it was asked for or the
        queues are empty."""
        k = self.keys
        args = [*args, worker_id, orjson.dumps(worker_id), repr(now), k.changed_channel]
        answer = await self.wire.script(
            self.scripts.claim_lease,
            keys,
            [*args, k.prefix, count, *codec.LEASED, *_LEASED_FRAME, *codec.ENDED],
        )
        removed, why, ms, kept, *payloads = answer
        for job in kept:  # as the lease left it: its result needs no read (leased.py)
            self.leased.put(job)
        if removed and task_type in self.limited:
            async with self.redis.pipeline(transaction=False) as pipe:
                self.wake_limited(pipe, [task_type])
                await pipe.execute()
        found = [bytes(p) for p in payloads]
        if why in (1, 2):
            return found, _throttled([why, ms])
        return found, why == 3

    async def restore_hint(self, queue_name: str, ref: str, priority: int, origin: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self.keys.ready(queue_name), {ref: ready_score(priority, time.time())})
            pipe.zrem(self.keys.leases(queue_name), ref)
            pipe.publish(self.keys.wake_channel, f"{queue_name}|{origin}")
            await pipe.execute()

    async def take_due_leases(self, task_type: str, limit: int, hold_s: float) -> list[str]:
        due = await self.scripts.take_due(
            keys=[self.keys.leases(task_type)],
            args=[int(time.time() * _MS), limit, int(hold_s * _MS)],
        )
        return [m.decode() for m in due]

    async def rearm_lease(self, task_type: str, ref: str, at: float) -> None:
        await self.redis.zadd(self.keys.leases(task_type), {ref: int(at * _MS)}, xx=True)

    async def drop_lease(self, task_type: str, ref: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrem(self.keys.leases(task_type), ref)
            self.wake_limited(pipe, [task_type])
            await pipe.execute()

    def wake_limited(self, pipe: Any, queues: Iterable[str]) -> None:
        """A delivery of these queues ended: a type at its ``max_in_flight`` has room now.
        No origin, so that this process's own waiters hear it too."""
        for task_type in sorted({split(q)[0] for q in queues} & self.limited):
            pipe.publish(self.keys.wake_channel, f"{task_type}|")

    async def promote_delayed(self, task_type: str, limit: int = 500) -> list[str]:
        """Moves due backoff entries of the type's queues to ready; returns the queues that
        got some (their waiters need a wake-up)."""
        queues = self.queues_of(task_type)
        keys = [key for q in queues for key in (self.keys.delayed(q), self.keys.ready(q))]
        moved = await self.scripts.promote(keys=keys, args=[int(time.time() * _MS), limit])
        return [q for q, n in zip(queues, moved, strict=True) if n]

    async def task_types(self) -> set[str]:
        return {t.decode() for t in await self.redis.smembers(self.keys.task_types)}

    async def queue_depths(self, task_types: Iterable[str]) -> dict[str, int]:
        """Ready entries by task type, every requirement set counted in."""
        depths = await self.route_depths(task_types)
        totals: dict[str, int] = {}
        for q, n in depths.items():
            totals[split(q)[0]] = totals.get(split(q)[0], 0) + n
        return totals

    async def route_depths(self, task_types: Iterable[str]) -> dict[str, int]:
        """Ready entries by queue (type, or ``type#requirements``)."""
        queues = [q for t in sorted(task_types) for q in self.queues_of(t)]
        async with self.redis.pipeline(transaction=False) as pipe:
            for q in queues:
                pipe.zcard(self.keys.ready(q))
            counts = await pipe.execute()
        return dict(zip(queues, (int(c) for c in counts), strict=True))

    async def in_flight(self, task_types: Iterable[str]) -> dict[str, int]:
        """Deliveries out with workers, by task type (the size of its leases)."""
        types = sorted(task_types)
        async with self.redis.pipeline(transaction=False) as pipe:
            for t in types:
                pipe.zcard(self.keys.leases(t))
            counts = await pipe.execute()
        return dict(zip(types, (int(c) for c in counts), strict=True))

    async def queue_oldest(self, task_types: Iterable[str], now: float) -> dict[str, float | None]:
        """Seconds the oldest ready entry of each type has waited at ``now``; None if empty.

        A ready score is ``(9 - priority) * 10^13 + ready-at ms`` (``ready_score``), so the
        first entry of each priority band is that band's oldest: ten one-entry reads per
        queue, in one round trip, however long the queues are.
        """
        queues = [q for t in sorted(task_types) for q in self.queues_of(t)]
        async with self.redis.pipeline(transaction=False) as pipe:
            for q in queues:
                for level in range(10):
                    pipe.zrangebyscore(
                        self.keys.ready(q), level * _BAND, (level + 1) * _BAND - 1, 0, 1, True
                    )
            answers = await pipe.execute()
        firsts: dict[str, list[int]] = {split(q)[0]: [] for q in queues}
        for i, q in enumerate(queues):
            found = answers[i * 10 : i * 10 + 10]
            firsts[split(q)[0]] += [int(entry[0][1]) % _BAND for entry in found if entry]
        return {t: max(0.0, now - min(f) / _MS) if f else None for t, f in sorted(firsts.items())}

    async def publish_wake(self, queue_name: str, origin: str) -> None:
        """Tells the other processes (the caller wakes its own waiters), if any listens."""
        await self.audience.count(self.keys.wake_channel, self.keys.ended_channel)
        if self.audience.others(self.keys.wake_channel):
            await self.redis.publish(self.keys.wake_channel, f"{queue_name}|{origin}")
