"""The live workers: who registered, when each was last seen, the cancels waiting for it.

A part of ``RedisStore`` (its base class), kept apart because it is a concept of its own.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from orchestrator.storage.keys import Keys

_MS = 1000.0


class WorkerRegistry:
    redis: Any
    keys: Keys

    async def register_worker(self, worker_id: str, info: dict[str, Any]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(self.keys.workers, worker_id, orjson.dumps(info))
            pipe.zadd(self.keys.workers_seen, {worker_id: int(time.time() * _MS)})
            await pipe.execute()

    async def heartbeat(
        self, worker_id: str, info: dict[str, Any] | None
    ) -> tuple[bool, list[dict[str, Any]]]:
        """Refreshes the worker's last-seen time; returns (known, cancelled tasks)."""
        flags = self.keys.worker_cancels(worker_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self.keys.workers_seen, {worker_id: int(time.time() * _MS)}, xx=True)
            # not ZADD's CH count: a heartbeat in the same millisecond as the last one changes
            # nothing, yet the worker is known
            pipe.zscore(self.keys.workers_seen, worker_id)
            pipe.spop(flags, 100)
            if info is not None:
                pipe.hset(self.keys.workers, worker_id, orjson.dumps(info))
            _, seen, cancelled, *_ = await pipe.execute()
        return seen is not None, [orjson.loads(c) for c in cancelled or []]

    async def worker_info(self, worker_id: str) -> dict[str, Any] | None:
        raw = await self.redis.hget(self.keys.workers, worker_id)
        return orjson.loads(raw) if raw else None

    async def workers_seen(self, worker_ids: list[str]) -> list[float | None]:
        if not worker_ids:
            return []
        scores = await self.redis.zmscore(self.keys.workers_seen, worker_ids)
        return [s / _MS if s is not None else None for s in scores]

    async def live_workers(self, ttl_s: float) -> list[tuple[dict[str, Any], float]]:
        """Workers seen within ``ttl_s``; older ones are forgotten on the way."""
        k = self.keys
        cutoff = int((time.time() - ttl_s) * _MS)
        dead = await self.redis.zrangebyscore(k.workers_seen, "-inf", cutoff)
        if dead:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zrem(k.workers_seen, *dead)
                pipe.hdel(k.workers, *dead)
                await pipe.execute()
        seen = await self.redis.zrange(k.workers_seen, 0, -1, withscores=True)
        if not seen:
            return []
        infos = await self.redis.hmget(k.workers, [w for w, _ in seen])
        return [
            (orjson.loads(info), score / _MS)
            for (_, score), info in zip(seen, infos, strict=True)
            if info
        ]
