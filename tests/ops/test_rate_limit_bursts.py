"""Concurrent requests share the tokens they take from Redis: none is thrown away."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from orchestrator.api.middleware.rate_limit import RateLimiter
from orchestrator.config import Settings
from orchestrator.storage.redis_store import RedisStore
from tests.conftest import delete_prefix

RATE = BURST = 100
"""The limiter takes tokens from Redis 2 at a time (a fiftieth of the rate) or as many as
requests wait for."""


@pytest.fixture
async def store(redis_url: str, prefix: str) -> AsyncIterator[RedisStore]:
    built = RedisStore(aioredis.Redis.from_url(redis_url), prefix)
    await built.scripts.load(built.redis)
    try:
        yield built
    finally:
        await built.close()
        await delete_prefix(redis_url, prefix)


async def test_a_burst_within_the_bucket_is_served_whole(store: RedisStore) -> None:
    """Before, each of these concurrent misses took a batch and kept only its own remainder,
    overwriting the others': half of the burst was refused."""
    limiter = RateLimiter(Settings.from_flat(ip_rate_per_s=RATE, ip_burst=BURST), store)

    answers = await asyncio.gather(*(limiter.check("alice", "10.0.0.1") for _ in range(BURST)))

    assert [a for a in answers if a is not None] == []


async def test_a_crowd_gets_the_bucket_and_its_refill_no_more(store: RedisStore) -> None:
    limiter = RateLimiter(Settings.from_flat(ip_rate_per_s=RATE, ip_burst=BURST), store)
    started = time.monotonic()

    answers = await asyncio.gather(*(limiter.check("bob", "10.0.0.2") for _ in range(3 * BURST)))

    refill = math.ceil((time.monotonic() - started) * RATE)
    served = sum(a is None for a in answers)
    assert BURST <= served <= BURST + refill + 2  # + one batch held back by the pool
    assert all(a.status == 429 for a in answers if a is not None)


async def test_a_token_taken_for_a_refused_request_goes_back(store: RedisStore) -> None:
    """A request refused by its client's bucket does not spend its IP's token."""
    settings = Settings.from_flat(client_rate_per_s=1, client_burst=1, ip_rate_per_s=1, ip_burst=2)
    limiter = RateLimiter(settings, store)

    assert await limiter.check("alice", "10.0.0.1") is None
    assert (await limiter.check("alice", "10.0.0.1")) is not None  # alice's bucket is empty

    assert await limiter.check("bob", "10.0.0.1") is None  # the IP's second token is left


async def test_a_request_that_goes_away_mid_fetch_leaves_the_others_served(
    store: RedisStore,
) -> None:
    limiter = RateLimiter(Settings.from_flat(ip_rate_per_s=RATE, ip_burst=BURST), store)
    first = asyncio.ensure_future(limiter.check("carol", "10.0.0.3"))
    await asyncio.sleep(0)  # let it start the fetch the others then wait on
    others = [asyncio.ensure_future(limiter.check("carol", "10.0.0.3")) for _ in range(5)]
    await asyncio.sleep(0)
    first.cancel()

    assert await asyncio.gather(*others) == [None] * 5
