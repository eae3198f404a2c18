"""The live workers: who registered, when each was last seen, the cancels waiting for it,
and which ones an operator drained.

A part of ``RedisStore`` (its base class), kept apart because it is a concept of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson

from orchestrator.storage.cluster import publish_to_worker
from orchestrator.storage.field_batch import FieldBatch
from orchestrator.storage.keys import Keys

_MS = 1000.0
DRAIN_COMMAND = b'{"type": "drain_worker"}'
UNDRAIN = "-"
"""Prefix of a message on the drain channel that takes a worker id off the draining set (it
deregistered, or a new worker registered under that id)."""


class Beat(NamedTuple):
    """What a heartbeat found: whether the worker is known, the cancels waiting for it, and
    whether it was drained."""

    known: bool
    cancelled: list[dict[str, Any]]
    draining: bool


class WorkerRegistry:
    redis: Any
    _worker_reads: FieldBatch | None = None
    keys: Keys

    async def register_worker(self, worker_id: str, info: dict[str, Any]) -> None:
        """A registration starts a new run of the worker: one drained under the same id
        before (a restarted process with a fixed ``WORKER_ID``) is not draining. Every
        process is told its record changed (``dispatch/profiles.py``)."""
        k = self.keys
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(k.workers, worker_id, orjson.dumps(info))
            pipe.zadd(k.workers_seen, {worker_id: int(time.time() * _MS)})
            pipe.srem(k.workers_draining, worker_id)
            pipe.publish(k.drain_channel, UNDRAIN + worker_id)
            pipe.publish(k.workers_channel, worker_id)
            await pipe.execute()

    async def heartbeat(
        self, worker_id: str, info: dict[str, Any] | None, *, offers_changed: bool = False
    ) -> Beat:
        """Refreshes the worker's last-seen time and collects its cancels, in one round trip.
        ``offers_changed``: ``info`` changes its skills, tags or labels, which every process
        is told (``dispatch/profiles.py``)."""
        flags = self.keys.worker_cancels(worker_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self.keys.workers_seen, {worker_id: int(time.time() * _MS)}, xx=True)
            # not ZADD's CH count: a heartbeat in the same millisecond as the last one changes
            # nothing, yet the worker is known
            pipe.zscore(self.keys.workers_seen, worker_id)
            pipe.spop(flags, 100)
            pipe.sismember(self.keys.workers_draining, worker_id)
            if info is not None:
                pipe.hset(self.keys.workers, worker_id, orjson.dumps(info))
                if offers_changed:
                    pipe.publish(self.keys.workers_channel, worker_id)
            _, seen, cancelled, draining, *_ = await pipe.execute()
        return Beat(seen is not None, [orjson.loads(c) for c in cancelled or []], bool(draining))

    async def drain_worker(self, worker_id: str, ttl_s: float) -> bool:
        """Marks a live worker draining and tells it, and every orchestrator process, at once.

        False when no worker of that id was seen within ``ttl_s``. Draining twice does what
        draining once did (the command goes out again, in case the first was lost).
        """
        k = self.keys
        seen = await self.redis.zscore(k.workers_seen, worker_id)
        if seen is None or seen < (time.time() - ttl_s) * _MS:
            return False
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.sadd(k.workers_draining, worker_id)
            publish_to_worker(pipe, self.redis, k.command_channel(worker_id), DRAIN_COMMAND)
            pipe.publish(k.drain_channel, worker_id)
            await pipe.execute()
        return True

    async def draining_workers(self) -> set[str]:
        return {w.decode() for w in await self.redis.smembers(self.keys.workers_draining)}

    async def deregister_worker(self, worker_id: str) -> None:
        """The worker stopped: forget it now rather than when its heartbeats stop counting."""
        k = self.keys
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrem(k.workers_seen, worker_id)
            pipe.hdel(k.workers, worker_id)
            pipe.srem(k.workers_draining, worker_id)
            pipe.delete(k.worker_cancels(worker_id))
            pipe.publish(k.drain_channel, UNDRAIN + worker_id)
            pipe.publish(k.workers_channel, worker_id)
            await pipe.execute()

    async def worker_info(self, worker_id: str) -> dict[str, Any] | None:
        return (await self.worker_infos([worker_id]))[0]

    async def worker_infos(self, worker_ids: list[str]) -> list[dict[str, Any] | None]:
        """The records of these workers (None: not registered). Reads of the same turn of
        the event loop, by any caller, go out together: one ``HMGET`` for a burst of polls."""
        if self._worker_reads is None:
            self._worker_reads = FieldBatch(self.redis, self.keys.workers)
        get = self._worker_reads.get
        if len(worker_ids) == 1:  # no task for gather to wrap it in
            raws = [await get(worker_ids[0])]
        else:
            raws = await asyncio.gather(*(get(w) for w in worker_ids))
        return [orjson.loads(raw) if raw else None for raw in raws]

    async def workers_seen(self, worker_ids: list[str]) -> list[float | None]:
        if not worker_ids:
            return []
        scores = await self.redis.zmscore(self.keys.workers_seen, worker_ids)
        return [s / _MS if s is not None else None for s in scores]

    async def live_workers(self, ttl_s: float) -> list[tuple[dict[str, Any], float]]:
        """Workers seen within ``ttl_s``, each info with ``draining`` set when an operator
        drained it; older ones are forgotten on the way."""
        k = self.keys
        cutoff = int((time.time() - ttl_s) * _MS)
        dead = await self.redis.zrangebyscore(k.workers_seen, "-inf", cutoff)
        if dead:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zrem(k.workers_seen, *dead)
                pipe.hdel(k.workers, *dead)
                pipe.srem(k.workers_draining, *dead)
                for worker_id in dead:  # every process forgets its copy (dispatch/profiles.py)
                    pipe.publish(k.workers_channel, worker_id)
                await pipe.execute()
        seen = await self.redis.zrange(k.workers_seen, 0, -1, withscores=True)
        if not seen:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(k.workers, [w for w, _ in seen])
            pipe.smembers(k.workers_draining)
            infos, draining = await pipe.execute()
        live = []
        for (worker_id, score), info in zip(seen, infos, strict=True):
            if info:
                live.append((orjson.loads(info) | {"draining": worker_id in draining}, score / _MS))
        return live

    async def send_cancels(self, cancels: Iterable[tuple[str, str, str, int]], ttl_s: int) -> int:
        """Publishes ``cancel_task`` (naming the attempt) to each worker's channel and leaves a
        flag its next heartbeat collects. Returns how many workers had a WebSocket open."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for worker_id, job_id, task_id, attempt in cancels:
                named = {"job_id": job_id, "task_id": task_id, "attempt": attempt}
                msg = orjson.dumps({"type": "cancel_task", **named})
                flags = self.keys.worker_cancels(worker_id)
                publish_to_worker(pipe, self.redis, self.keys.command_channel(worker_id), msg)
                pipe.sadd(flags, msg)
                pipe.expire(flags, ttl_s)
            results = await pipe.execute()
        return sum(1 for subscribers in results[::3] if subscribers)  # (S)PUBLISH's answers
