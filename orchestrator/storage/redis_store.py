"""``RedisStore``: every read and write of orchestrator state, over ``redis.asyncio``.

The embedded mode runs this same class over fakeredis (see ``embedded.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError

from orchestrator.engine.effects import Effects
from orchestrator.engine.model import Job
from orchestrator.engine.requires import split
from orchestrator.storage import codec
from orchestrator.storage.audience import Audience
from orchestrator.storage.branches import BranchResults
from orchestrator.storage.cluster import HINT_GRACE_S
from orchestrator.storage.commit_extra import CommitExtra
from orchestrator.storage.end_message import packable
from orchestrator.storage.keys import Keys
from orchestrator.storage.leased import LeasedJobs
from orchestrator.storage.queues import Queues, ready_score
from orchestrator.storage.released import ReleasedLeases, release_later
from orchestrator.storage.scripts import Scripts
from orchestrator.storage.wire import Batch, Wire, as_dict
from orchestrator.storage.worker_registry import WorkerRegistry

__all__ = ["RedisStore", "ready_score"]

_MS = 1000.0


class RedisStore(WorkerRegistry, BranchResults, Queues):
    def __init__(self, redis: Redis, prefix: str, *, embedded: bool = False) -> None:
        # redis-py's annotations type replies as unions of every possible shape; we know the
        # shape of each reply, so the client is used untyped inside this class.
        self.redis: Any = redis
        self.keys = Keys(prefix)
        self.embedded = embedded
        self.scripts = Scripts.register(redis)
        self.cluster = isinstance(redis, RedisCluster)
        self.wire = Wire(redis, direct=not embedded and not self.cluster)
        self._known_types: set[str] = set()
        self.audience = Audience(redis, counted=not self.cluster)
        self.routes = {}
        self.limited = frozenset()
        self.leased = LeasedJobs()
        self.released = ReleasedLeases(redis)
        self.job_ended: Callable[[Job, int], None] | None = None
        """Handed each job this process ended (its terminal commit won): the local waiters
        answer with it instead of reading it back (``dispatch/job_waiters.py``)."""
        self.job_created: Callable[[Job], None] | None = None
        """Told of each job this process's commits create (``JobWaiters.created``)."""
        self.served_here = lambda _queue: False

    async def close(self) -> None:
        await self.released.close()
        await self.wire.close()
        await self.redis.aclose()

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def delete_all(self, batch: int = 500) -> int:
        """Deletes every key under this deployment's prefix, never another's (SCAN + UNLINK
        in batches: no FLUSHDB, and Redis is never blocked long). For dev mode only: work in
        flight is lost. Returns how many keys were deleted."""
        deleted, keys = 0, []
        async for key in self.redis.scan_iter(match=self.keys.all_pattern(), count=batch):
            keys.append(key)
            if len(keys) >= batch:
                deleted += await self.redis.unlink(*keys)
                keys = []
        if keys:
            deleted += await self.redis.unlink(*keys)
        self._known_types.clear()  # the task type index is gone: enqueues must add it again
        self.leased.clear()
        self.routes.clear()
        return int(deleted)

    # -- jobs -----------------------------------------------------------------------------

    async def load(self, job_id: str) -> Job | None:
        return codec.decode(as_dict(await self.wire.one("HGETALL", self.keys.job(job_id))))

    async def load_many(self, job_ids: list[str]) -> list[Job | None]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hgetall(self.keys.job(job_id))
            rows = await pipe.execute()
        return [codec.decode(row) for row in rows]

    async def commit(
        self,
        job: Job,
        effects: Effects,
        *,
        ttl_s: int = 0,
        wake_origin: str = "",
        index: bool = False,
        fresh: bool = False,
        extra: CommitExtra | None = None,
    ) -> bool:
        """Store ``job`` (its ``rev`` already bumped) if its stored rev is ``job.rev - 1``.

        One round trip: the guarded job write, then lease releases and wake-ups. On one Redis
        the queue entries and timers are written by the same script as the job, so no worker
        can claim an entry before its job names the delivery; on Cluster they live in other
        slots and go around the write (``_entries``, ``_ready_after_write``). Removals
        of entries that may have become live meanwhile (``effects.drop``: a cancel or a
        timeout racing a claim) follow in a second round trip, only when the write won.
        Returns False when another writer got there first; nothing of this commit then
        matters, as stale hints are discarded when claimed.

        ``fresh`` (with ``index``): the job is new and its id was drawn for it (a UUID4), so
        the only commit that can meet it already stored is this one sent again. On one Redis
        the client-index entry, written in the script with ``NX``, then tells that apart and
        the job is not read first (``apply.lua``).
        """
        self.leased.drop(job.id)  # this process's view of the job as leased is over
        fields: list[Any] = []
        for name, value in codec.encode(job).items():
            fields += [name, value]
        for _ in range(2):
            written = await self._commit_once(
                job, effects, fields, ttl_s, wake_origin, index, fresh, extra
            )
            if written is not None:
                return written
            # Redis lost its scripts (restarted without persistence): load them, go again.
            await self.scripts.load(self.redis)
        raise RuntimeError("Redis refuses to keep the orchestrator's Lua scripts")

    async def _commit_once(
        self,
        job: Job,
        effects: Effects,
        fields: list[Any],
        ttl_s: int,
        origin: str,
        index: bool,
        fresh: bool,
        extra: CommitExtra | None,
    ) -> bool | None:
        k = self.keys
        # on Cluster the index is in another slot: it goes ahead, and the job is read
        guard = fresh and index and job.rev == 1 and not self.cluster
        queues = {q for q, _, _ in effects.enqueue} | {q for q, _, _ in effects.delay}
        new_types = {split(q)[0] for q in queues} - self._known_types
        new_routes = [split(q) for q in sorted(queues) if "#" in q]
        new_routes = [(t, r) for t, r in new_routes if r not in self.routes.get(t, ())]
        entries = self._entries(effects)
        later = [] if self.cluster else release_later(k, effects, self.limited)
        await self.audience.count(k.wake_channel, k.ended_channel)
        pipe = Batch()
        if self.cluster:  # other slots: before the write (a stale hint is harmless)
            for key, score, member in entries:
                pipe.zadd(key, {member: score})
        before = len(entries) if self.cluster else 0
        entries = [] if self.cluster else entries
        before += self._before_write(pipe, job, new_types, new_routes, index and not guard, extra)
        # The leases it ends whose removal cannot wait: on one Redis the script removes them
        # only if the write wins (apply.lua); on Cluster they go around it (other slots).
        now = self._released_now(effects, later)
        removed, around = ([], now) if self.cluster else (now, [])
        # evalsha straight in the batch: going through the Script object would add a
        # SCRIPT EXISTS round trip to every commit.
        keys = [
            k.job(job.id),
            *(key for key, _, _ in entries),
            *(key for key, _ in removed),
        ]
        expected = "new" if guard else str(job.rev - 1)
        # the end is told with the job (end_message.py) by the script, only if written
        others = job.terminal and self.audience.others(k.ended_channel)
        packed = others and packable(fields)
        ended = k.ended_channel if packed else ""
        argv: list[Any] = [
            expected,
            ttl_s,
            k.changed_channel,
            job.id,
            len(entries),
            ended,
            len(removed),
        ]
        for _, score, member in entries:
            argv += [score, member]
        argv += [ref for _, ref in removed]
        if guard:
            keys.append(k.client_jobs(job.client))
            argv.append(int(job.created_at * _MS))
        pipe.commands.append(("EVALSHA", self.scripts.apply.sha, len(keys), *keys, *argv, *fields))
        ended_here = self._release_and_wake(pipe, job, effects, origin, around, packed)
        results = await self.wire.run(pipe.commands)
        written = results[before]
        self._tell_end(job, fields, written, ended_here)
        if isinstance(written, NoScriptError):
            return None
        for result in results:
            if isinstance(result, Exception):
                raise result
        self._known_types |= new_types
        if written:  # a losing write leaves its leases (released.py)
            self.released.add(later)
        if written and self.cluster and (effects.enqueue or self._soon(effects)):
            await self._ready_after_write(effects, origin)
        for task_type, route in new_routes:
            self.routes.setdefault(task_type, set()).add(route)
        if written and (effects.drop or extra is not None):
            await self._drop_after_write(effects, extra)
        return bool(written)

    def _tell_end(
        self,
        job: Job,
        fields: list[Any],
        written: object,
        ended_here: Callable[[bytes], None] | None,
    ) -> None:
        """This process's waiters of the job: handed the job when this write ended it (the
        rev just stored, the freshest view there is), else woken to read it if it may have."""
        if written == 1 and job.terminal and self.job_ended is not None:
            self.job_ended(job, sum(len(value) for value in fields[1::2]))
        elif ended_here is not None:
            ended_here(job.id.encode())
        elif written == 1 and job.rev == 1 and self.job_created is not None:
            self.job_created(job)

    async def _drop_after_write(self, effects: Effects, extra: CommitExtra | None) -> None:
        """Only the writer that won may drop queue entries: a loser decided on an old view of
        the job, and a ref it names may have been claimed since (a live delivery)."""
        k = self.keys
        async with self.redis.pipeline(transaction=False) as pipe:
            for task_type, ref in effects.drop:
                pipe.zrem(k.ready(task_type), ref)
                pipe.zrem(k.delayed(task_type), ref)
                pipe.zrem(k.leases(task_type), ref)
            self.wake_limited(pipe, [q for q, _ in effects.drop])
            if extra is not None:
                extra.after(pipe)
            await pipe.execute()

    def _before_write(
        self,
        pipe: Any,
        job: Job,
        new_types: set[str],
        new_routes: list[tuple[str, str]],
        index: bool,
        extra: CommitExtra | None,
    ) -> int:
        """Index writes that go ahead of the job write; returns how many commands."""
        k = self.keys
        if new_types:
            pipe.sadd(k.task_types, *new_types)
        for task_type, route in new_routes:
            pipe.sadd(k.routes(task_type), route)
        if index:
            pipe.zadd(k.client_jobs(job.client), {job.id: int(job.created_at * _MS)})
        before = bool(new_types) + len(new_routes) + index
        return before + (extra.before(pipe) if extra is not None else 0)

    async def _ready_after_write(self, effects: Effects, origin: str) -> None:
        """Redis Cluster: a job and its queue are on different nodes, and a pipeline's
        commands to different nodes run in no set order. A ready entry sent with the job's
        write could be claimed before the job has the delivery; the claim would drop it as
        stale and the task would never run. So on Cluster the commit parks the entry in the
        delayed queue (due in ``HINT_GRACE_S``, should this process die now) and makes it
        ready once the job write has won: one more round trip per enqueueing step."""
        k, now = self.keys, time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            for task_type, ref, priority in effects.enqueue:
                pipe.zadd(k.ready(task_type), {ref: ready_score(priority, now)})
                pipe.zrem(k.delayed(task_type), ref)
                pipe.publish(k.wake_channel, f"{task_type}|{origin}")
            # Timers due at once (a child ended: resume its parent) likewise: a sweep taking
            # one before the job write would find nothing to do and drop it.
            for member, at in self._soon(effects):
                pipe.zadd(k.timers, {member: int(at * _MS)})
            await pipe.execute()

    def _soon(self, effects: Effects) -> list[tuple[str, float]]:
        """The timers of ``effects`` due before a Cluster commit's write has surely landed."""
        horizon = time.time() + HINT_GRACE_S / 2
        return [(member, at) for member, at in effects.timers if at < horizon]

    def _entries(self, effects: Effects) -> list[tuple[str, int | float, str]]:
        """(zset, score, member) of the queue entries, timers and webhook entries of a step.
        On Cluster a new ready entry is parked in the delayed queue and an imminent timer
        pushed back until the write has won (``_ready_after_write`` sets them right)."""
        k, now = self.keys, time.time()
        entries: list[tuple[str, int | float, str]] = []
        for task_type, ref, priority in effects.enqueue:
            if self.cluster:
                entries.append((k.delayed(task_type), int((now + HINT_GRACE_S) * _MS), ref))
            else:
                entries.append((k.ready(task_type), ready_score(priority, now), ref))
        for task_type, ref, at in effects.delay:
            entries.append((k.delayed(task_type), int(at * _MS), ref))
        for member, at in effects.timers:
            if self.cluster and at < now + HINT_GRACE_S / 2:
                at = now + HINT_GRACE_S
            entries.append((k.timers, int(at * _MS), member))
        for member, at in effects.webhooks:
            entries.append((k.webhook_outbox, int(at * _MS), member))
        return entries

    def _released_now(
        self, effects: Effects, later: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        """(leases key, ref) of the deliveries the step ends whose entries go with its write:
        those whose removal cannot wait (``released.py``)."""
        ended = ((self.keys.leases(task_type), ref) for task_type, ref in effects.release)
        return [entry for entry in ended if entry not in later]

    def _release_and_wake(
        self,
        pipe: Any,
        job: Job,
        effects: Effects,
        origin: str,
        around: list[tuple[str, str]],
        packed: bool,
    ) -> Callable[[bytes], None] | None:
        """The wake-ups and ends of the step, safe whatever the write's outcome: a spurious
        wake-up costs one empty claim. ``around``: on Cluster, the lease entries it ends (in
        other slots than the job's), removed with the write whatever its outcome: there a
        process that dies between a write that did not land and its retry leaves a delivery
        with no lease entry. On one Redis the script removes them, only if the write won
        (``apply.lua``).
        Wake-ups and ends are published only when another process listens (``audience.py``;
        ``packed``: the script tells the end); else returns the end's local handler."""
        k = self.keys
        for key, ref in around:
            pipe.zrem(key, ref)
        self.wake_limited(pipe, [q for q, _ in effects.release])
        if not self.cluster and self.audience.others(k.wake_channel):
            # this process's own waiters are woken by the JobRunner; the other processes
            # only if no poll parked here takes the task (``Dispatcher.will_serve``)
            for task_type in (t for t, _, _ in effects.enqueue if not self.served_here(t)):
                pipe.publish(k.wake_channel, f"{task_type}|{origin}")
        if not job.terminal:
            return None
        # Clients waiting on this job (GET ...?wait=) may be parked in any process.
        if self.audience.others(k.ended_channel):
            if not packed:  # a bare id: they read the job
                pipe.publish(k.ended_channel, job.id)
            return None
        return self.audience.local(k.ended_channel)

    async def watch(self, job_id: str) -> bool:
        """From now on every change of the job is published (for live event streams)."""
        return bool(await self.scripts.watch(keys=[self.keys.job(job_id)]))

    async def idempotency_claim(self, client: str, key: str, value: str, ttl_s: int) -> str | None:
        """Take ``key`` for ``value`` (job id + body hash); returns the earlier value if taken."""
        name = self.keys.idempotency(client, key)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(name, value, nx=True, ex=ttl_s)
            pipe.get(name)
            taken, current = await pipe.execute()
        return None if taken else (current or b"").decode()

    async def client_jobs(self, client: str, start: int, count: int) -> list[str]:
        ids = await self.redis.zrevrange(self.keys.client_jobs(client), start, start + count - 1)
        return [i.decode() for i in ids]

    async def forget_client_jobs(self, client: str, job_ids: list[str]) -> None:
        if job_ids:
            await self.redis.zrem(self.keys.client_jobs(client), *job_ids)

    # -- timers ---------------------------------------------------------------------------

    async def take_due_timers(self, limit: int, hold_s: float) -> list[str]:
        return await self._take_due(self.keys.timers, limit, hold_s)

    async def add_timer(self, member: str, at: float) -> None:
        await self.add_timers({member: at})

    async def add_timers(self, due: dict[str, float]) -> None:
        await self.redis.zadd(self.keys.timers, {m: int(at * _MS) for m, at in due.items()})

    async def drop_timer(self, member: str) -> None:
        await self.redis.zrem(self.keys.timers, member)

    async def _take_due(self, key: str, limit: int, hold_s: float) -> list[str]:
        due = await self.scripts.take_due(
            keys=[key], args=[int(time.time() * _MS), limit, int(hold_s * _MS)]
        )
        return [m.decode() for m in due]
