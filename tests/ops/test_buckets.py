"""rate_limit.lua through ``storage/buckets.take``, on real Redis and on the embedded store.

Time is passed in, so the arithmetic is checked exactly, with no waiting.
"""

from __future__ import annotations

from orchestrator.storage.buckets import Bucket, take
from orchestrator.storage.redis_store import RedisStore

T0 = 1_700_000_000_000
ONE = Bucket("client", "alice", rate_per_s=1.0, burst=2)


async def take1(store: RedisStore, buckets: list[Bucket], now_ms: int) -> list[int]:
    """One token from each bucket: 0 when taken, else the wait in ms."""
    return [0 if taken else wait for taken, wait in await take(store, buckets, now_ms)]


async def test_a_batch_takes_what_is_there_up_to_its_size(store: RedisStore) -> None:
    big = Bucket("client", "bob", rate_per_s=10.0, burst=25)

    taken = [await take(store, [big], T0, [10]) for _ in range(4)]

    assert taken == [[(10, 0)], [(10, 0)], [(5, 0)], [(0, 100)]]


async def test_burst_then_refusal_with_the_wait_until_a_token(store: RedisStore) -> None:
    results = [await take1(store, [ONE], T0) for _ in range(3)]

    assert results == [[0], [0], [1000]]


async def test_refill_at_the_rate_and_a_refusal_takes_nothing(store: RedisStore) -> None:
    for _ in range(2):
        await take1(store, [ONE], T0)

    assert await take1(store, [ONE], T0 + 500) == [500]  # half a token there
    assert await take1(store, [ONE], T0 + 1000) == [0]  # the refused call took nothing
    assert await take1(store, [ONE], T0 + 1000) == [1000]


async def test_an_idle_bucket_holds_no_more_than_its_burst(store: RedisStore) -> None:
    await take1(store, [ONE], T0)

    later = T0 + 3_600_000
    results = [await take1(store, [ONE], later) for _ in range(3)]

    assert results == [[0], [0], [1000]]


async def test_a_clock_behind_the_bucket_refills_nothing(store: RedisStore) -> None:
    for _ in range(2):
        await take1(store, [ONE], T0)

    assert await take1(store, [ONE], T0 - 60_000) == [1000]
    assert await take1(store, [ONE], T0 + 1000) == [0]


async def test_buckets_are_separate_and_answered_together(store: RedisStore) -> None:
    ip = Bucket("ip", "127.0.0.1", rate_per_s=10.0, burst=1)
    other = Bucket("client", "bob", rate_per_s=1.0, burst=2)

    first = await take1(store, [ONE, ip], T0)
    second = await take1(store, [ONE, ip], T0)
    bob = await take1(store, [other], T0)

    assert first == [0, 0]
    assert second == [0, 100]  # ONE still had a token; the ip bucket refills in 100 ms
    assert bob == [0]


async def test_an_idle_bucket_expires_once_it_would_be_full(store: RedisStore) -> None:
    await take1(store, [ONE], T0)

    ttl = await store.redis.pttl(store.keys.rate_bucket("client", "alice"))

    assert 1000 < ttl <= 2000  # one token to refill at 1/s, plus a second of slack


async def test_scripts_forgotten_by_redis_are_loaded_again(store: RedisStore) -> None:
    await store.redis.script_flush()

    assert await take1(store, [ONE], T0) == [0]
