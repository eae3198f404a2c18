"""The dashboard figures the console draws: queue ages, jobs ended per minute."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from orchestrator import BlueprintRegistry, create_app
from orchestrator.storage.embedded import embedded_store
from orchestrator.storage.redis_store import RedisStore, ready_score
from orchestrator.storage.stats import JobStats, bucket_of
from tests.api.blueprints import ALL
from tests.api.conftest import client_headers, make_settings

NOW = 1_800_000_000.0


async def test_the_oldest_entry_is_found_whatever_its_priority(store: RedisStore) -> None:
    ready = store.keys.ready("scan")
    await store.redis.zadd(
        ready,
        {
            "urgent-new": ready_score(9, NOW - 5),
            "low-oldest": ready_score(0, NOW - 120.5),
            "mid": ready_score(4, NOW - 30),
            "low-new": ready_score(0, NOW - 1),
        },
    )
    await store.redis.zadd(store.keys.ready("ocr"), {"only": ready_score(4, NOW - 2)})
    ages = await store.queue_oldest(["scan", "ocr", "idle"], NOW)
    assert ages == {"scan": pytest.approx(120.5), "ocr": pytest.approx(2.0), "idle": None}
    # the oldest leaves: the next oldest of any band is the age now
    await store.redis.zrem(ready, "low-oldest")
    assert (await store.queue_oldest(["scan"], NOW))["scan"] == pytest.approx(30.0)


async def test_the_dashboard_says_how_long_each_queue_has_waited(
    aiohttp_client: Any, prefix: str
) -> None:
    store = embedded_store(prefix)
    try:
        app = create_app(make_settings(), store, BlueprintRegistry(ALL))
        client: TestClient[Any, Any] = await aiohttp_client(app)
        await store.redis.sadd(store.keys.task_types, "scan", "idle")
        await store.redis.zadd(store.keys.ready("scan"), {"a": ready_score(0, 1_000.0)})
        resp = await client.get("/api/v1/dashboard", headers=client_headers())
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert body["queues"]["scan"] == 1 and body["queues"]["idle"] == 0
        assert body["queue_oldest_s"]["idle"] is None
        assert body["queue_oldest_s"]["scan"] > 1_700_000_000  # waiting since 1970 + 1000 s
    finally:
        await store.close()


async def test_jobs_ended_per_minute_over_the_last_hour(store: RedisStore) -> None:
    stats = JobStats(store)
    now = 1_800_000_000.0 + 5  # 5 s into a minute-aligned ten-second bucket
    finished = {now: 2, now - 10: 1, now - 60: 4, now - 59 * 60: 7, now - 61 * 60: 100}
    for at, n in finished.items():
        await store.redis.set(store.keys.stats_finished(bucket_of(at)), n)
    minutes = await stats.finished_per_minute(now)
    assert len(minutes) == 60
    assert minutes[-1] == 3  # this minute: the buckets of now and 10 s before
    assert minutes[-2] == 4 and minutes[0] == 7  # 59 minutes ago is the oldest shown
    assert sum(minutes) == 14  # 61 minutes ago is out of the hour
