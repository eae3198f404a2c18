"""``JobStats``: deployment-wide job counts that cost no Redis command per job.

Each process counts in memory how the transitions it stored moved jobs between non-terminal
statuses, and how many jobs it finished, and adds those deltas to Redis in one MULTI every
second (``flush``, run by ``loops/telemetry.py``). Readers get numbers that hold across every
orchestrator process from one HGETALL or MGET, and nobody scans jobs to count them.

Limits, written down in ``docs/metrics.md``:

- a process killed with SIGKILL loses the deltas it had not flushed yet (up to a second), and
  so does a flush racing a clean shutdown's last background transitions;
- ``recount`` rebuilds the counts from the job hashes. One process runs it every ten minutes (a
  ``SET NX EX`` lock). Transitions stored while it scans may be counted twice or not at all,
  until the next recount;
- terminal jobs are not counted: they expire after the retention, so a count of them would
  drift. Their totals are Prometheus counters; ``finished_recently`` covers the last hour.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import orjson

from orchestrator.engine.effects import Effects
from orchestrator.engine.model import TERMINAL, Job, JobStatus
from orchestrator.storage.redis_store import RedisStore

BUCKET_S = 10
"""Width of a finished-jobs bucket; "the last minute" thus spans 60 to 70 seconds."""
BUCKET_TTL_S = 2 * 3600
RECOUNT_BATCH = 500
_TERMINAL_VALUES = frozenset(s.value.encode() for s in TERMINAL)

JobCounts = dict[str, dict[str, int]]
"""blueprint → status → jobs."""


def bucket_of(ts: float) -> int:
    return int(ts // BUCKET_S) * BUCKET_S


class JobStats:
    def __init__(self, store: RedisStore) -> None:
        self.redis: Any = store.redis
        self.keys = store.keys
        self._jobs: Counter[tuple[str, str]] = Counter()
        self._finished: Counter[int] = Counter()

    # -- writing --------------------------------------------------------------------------

    def observe(self, before: Job, after: Job, effects: Effects) -> None:
        """A ``JobRunner`` observer: counts the stored transition in memory only."""
        created = before.rev == 0
        if not created and before.status == after.status:
            return
        if not created and before.status not in TERMINAL:
            self._jobs[(after.blueprint, before.status.value)] -= 1
        if after.status not in TERMINAL:
            self._jobs[(after.blueprint, after.status.value)] += 1
        elif not before.terminal:
            self._finished[bucket_of(after.finished_at or after.updated_at)] += 1

    async def flush(self) -> None:
        """Adds this process's deltas to Redis; on failure they wait for the next flush."""
        jobs = {k: n for k, n in self._jobs.items() if n}
        finished = self._finished
        if not jobs and not finished:
            self._jobs.clear()
            return
        self._jobs, self._finished = Counter(), Counter()
        try:
            # MULTI: all or nothing, so a failed flush can be retried without counting twice.
            async with self.redis.pipeline(transaction=True) as pipe:
                for (blueprint, status), n in jobs.items():
                    pipe.hincrby(self.keys.stats_jobs, f"{blueprint}|{status}", n)
                for bucket, n in finished.items():
                    key = self.keys.stats_finished(bucket)
                    pipe.incrby(key, n)
                    pipe.expire(key, BUCKET_TTL_S)
                await pipe.execute()
        except BaseException:
            self._jobs.update(jobs)
            self._finished.update(finished)
            raise

    # -- reading --------------------------------------------------------------------------

    async def jobs_by_status(self) -> JobCounts:
        """Non-terminal jobs of the whole deployment, as of the processes' last flushes."""
        raw = await self.redis.hgetall(self.keys.stats_jobs)
        counts: JobCounts = {}
        for field, value in raw.items():
            blueprint, _, status = field.decode().rpartition("|")
            # A delta flushed just before a recount rewrote the hash can leave -1 for a while.
            counts.setdefault(blueprint, {})[status] = max(0, int(value))
        return counts

    async def finished_recently(self, now: float | None = None) -> tuple[int, int]:
        """Jobs finished in the last minute and in the last hour (to a bucket's width)."""
        current = bucket_of(time.time() if now is None else now)
        buckets = [current - i * BUCKET_S for i in range(3600 // BUCKET_S + 1)]
        values = await self.redis.mget([self.keys.stats_finished(b) for b in buckets])
        counts = [int(v) if v else 0 for v in values]
        return sum(counts[: 60 // BUCKET_S + 1]), sum(counts)

    async def finished_per_minute(self, now: float | None = None) -> list[int]:
        """Jobs finished in each of the last 60 minutes, oldest first; the last one is the
        minute under way (to a bucket's width, like ``finished_recently``)."""
        current = bucket_of(time.time() if now is None else now)
        per_minute = 60 // BUCKET_S
        buckets = [current - i * BUCKET_S for i in range(60 * per_minute)]
        values = await self.redis.mget([self.keys.stats_finished(b) for b in buckets])
        counts = [int(v) if v else 0 for v in values]
        minutes = [sum(counts[m * per_minute : (m + 1) * per_minute]) for m in range(60)]
        return minutes[::-1]

    # -- healing --------------------------------------------------------------------------

    async def recount_if_due(self, interval_s: float, owner: str) -> bool:
        """Recounts if no process has within ``interval_s``; returns whether it did."""
        lock = self.keys.stats_recount_lock
        if not await self.redis.set(lock, owner, nx=True, ex=max(1, int(interval_s))):
            return False
        await self.recount()
        return True

    async def recount(self) -> JobCounts:
        """Rebuilds the non-terminal counts from the job hashes (SCAN, pipelined batches)."""
        await self.flush()  # ours are then in the hash and in the jobs alike
        counts: Counter[str] = Counter()
        batch: list[bytes] = []
        async for key in self.redis.scan_iter(match=self.keys.job_pattern(), count=1000):
            batch.append(key)
            if len(batch) >= RECOUNT_BATCH:
                await self._count(batch, counts)
                batch = []
        await self._count(batch, counts)
        old = await self.redis.hkeys(self.keys.stats_jobs)
        # Fields that fell to nothing stay at 0, so their gauge series do not vanish.
        fields: dict[str, int] = {f.decode(): 0 for f in old}
        fields.update(counts)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.stats_jobs)
            if fields:
                pipe.hset(self.keys.stats_jobs, mapping=fields)
            await pipe.execute()
        return await self.jobs_by_status()

    async def _count(self, keys: list[bytes], counts: Counter[str]) -> None:
        if not keys:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hget(key, "status")
            statuses = await pipe.execute()
        # Only live jobs need their blueprint, which sits in the (larger) document.
        live = [
            (k, s) for k, s in zip(keys, statuses, strict=True) if s and s not in _TERMINAL_VALUES
        ]
        if not live:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for key, _ in live:
                pipe.hget(key, "doc")
            docs = await pipe.execute()
        for (_, status), doc in zip(live, docs, strict=True):
            if doc:  # expired between the two reads
                blueprint = orjson.loads(doc)["blueprint"]
                counts[f"{blueprint}|{JobStatus(status.decode()).value}"] += 1
