"""A client's jobs as its index holds them: one sorted set, job id → creation time (ms).

``GET /api/v1/jobs`` pages through it newest first. A created range is turned into a window
of ranks with two ``ZCOUNT`` (O(log N) each), so a page inside it costs what a page of the
whole list does: ``ZREVRANGE`` by rank, O(log N + page), never a skip over what lies before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.storage.redis_store import RedisStore


class ClientJobIndex:
    def __init__(self, store: RedisStore, client: str) -> None:
        self.store = store
        self.client = client
        self.key = store.keys.client_jobs(client)

    async def window(self, after_ms: int | None, before_ms: int | None) -> tuple[int, int]:
        """Ranks ``[start, end)`` (newest first) of the jobs created at or after
        ``after_ms`` and before ``before_ms``; either bound may be open."""
        async with self.store.redis.pipeline(transaction=False) as pipe:
            # the jobs created at or after `before` are the newest: the window starts past them
            if before_ms is not None:
                pipe.zcount(self.key, before_ms, "+inf")
            if after_ms is None:
                pipe.zcard(self.key)
            else:
                pipe.zcount(self.key, after_ms, "+inf")
            counts = await pipe.execute()
        start = int(counts[0]) if before_ms is not None else 0
        return start, max(start, int(counts[-1]))

    async def ids(self, start: int, count: int) -> list[str]:
        return await self.store.client_jobs(self.client, start, count)

    async def created_ms(self, job_id: str) -> int | None:
        """The job's creation time if the index holds it (O(1)), else None."""
        score = await self.store.redis.zscore(self.key, job_id)
        return None if score is None else int(score)

    async def forget(self, job_ids: list[str]) -> None:
        await self.store.forget_client_jobs(self.client, job_ids)
