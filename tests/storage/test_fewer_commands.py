"""The two reads a job no longer costs, over one Redis, the embedded store and Cluster:

- a create whose id was drawn for it (a fresh UUID) is guarded by its client-index entry
  (``ZADD NX`` in ``apply.lua``) instead of a read of the job: sent twice, it still lands once;
- a claim keeps the job as its lease left it (``storage/leased.py``), so the result of that
  task needs no read: what it keeps must be exactly what is stored.

Cluster keeps the reads (the index and the queues are in other slots than the job).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import redis.asyncio as aioredis

from orchestrator.engine.effects import Effects
from orchestrator.engine.model import Job
from orchestrator.storage.redis_store import RedisStore
from tests.builders import waiting_job
from tests.conftest import delete_prefix
from tests.storage import stored as shared
from tests.storage.test_ended_fan_out import fanned_out

TYPE = "echo"


def fresh_job(client: str = "client-a") -> tuple[Job, Effects]:
    job, effects = waiting_job(str(uuid.uuid4()), now=time.time(), client=client)
    return job.evolve(rev=1), effects


async def test_a_fresh_create_sent_twice_lands_once(store: RedisStore) -> None:
    job, effects = fresh_job()
    assert await store.commit(job, effects, index=True, fresh=True) is True
    # the same commit again (a pipeline retried after its reply was lost), or another step
    # built on the same new id: refused, and the stored job is the first one
    moved = job.evolve(state="work", updated_at=job.updated_at + 1)

    assert await store.commit(job, effects, index=True, fresh=True) is False
    assert await store.commit(moved, Effects(), index=True, fresh=True) is False

    assert await store.load(job.id) == job
    assert await store.client_jobs(job.client, 0, 10) == [job.id]
    assert job.task is not None
    assert [m.decode() for m in await store.redis.zrange(store.keys.ready(TYPE), 0, -1)] == [
        job.task.ref
    ]


async def test_an_id_given_by_someone_is_still_checked_against_the_job(
    store: RedisStore,
) -> None:
    # Ids a caller chose (children, Idempotency-Key, declared routes) may be taken by a job of
    # another client, or outlive their index entry: those creates read the job.
    job, effects = fresh_job("client-a")
    assert await store.commit(job, effects, index=True) is True
    other = job.evolve(client="client-b")

    assert await store.commit(other, effects, index=True) is False

    assert await store.load(job.id) == job


async def test_a_fresh_create_does_not_read_the_job(redis_url: str, prefix: str) -> None:
    # One Redis only: the count of commands it ran (INFO commandstats) is what this is about.
    store = RedisStore(aioredis.Redis.from_url(redis_url), prefix)
    await store.scripts.load(store.redis)
    try:
        job, effects = fresh_job()
        before = await hash_reads(store)

        assert await store.commit(job, effects, index=True, fresh=True) is True

        assert await hash_reads(store) == before
        assert await store.load(job.id) == job
    finally:
        await store.close()
        await delete_prefix(redis_url, prefix)


async def hash_reads(store: RedisStore) -> int:
    stats: dict[str, Any] = await store.redis.info("commandstats")
    return sum(
        int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("hmget", "hgetall")
    )


async def test_a_claim_keeps_the_job_as_its_lease_stored_it(store: RedisStore) -> None:
    await shared.stored(store, "j1", task_type=TYPE)

    assert await store.claim(TYPE, "w1", 30) is not None

    kept = store.leased.take("j1")
    if store.cluster:  # two scripts there: the lease keeps nothing
        assert kept is None
        return
    assert kept is not None
    assert kept == await store.load("j1")
    assert kept.task is not None and kept.task.worker == "w1" and kept.rev == 2
    assert store.leased.take("j1") is None  # taken once


async def test_a_commit_of_the_job_drops_what_its_claim_kept(store: RedisStore) -> None:
    await shared.stored(store, "j1", task_type=TYPE)
    assert await store.claim(TYPE, "w1", 30) is not None
    job = await store.load("j1")
    assert job is not None

    assert await store.commit(job.evolve(rev=3, state="work"), Effects()) is True

    assert store.leased.take("j1") is None


async def test_a_branch_claim_keeps_nothing(store: RedisStore) -> None:
    # A fan-out's hash grows with its branches: a claim of one does not carry it back.
    await fanned_out(store, "p1")

    assert await store.claim("shard", "w1", 30) is not None

    assert len(store.leased) == 0


@pytest.mark.parametrize("bound", ["jobs", "bytes"])
async def test_what_claims_keep_is_bounded(store: RedisStore, bound: str) -> None:
    for i in range(3):
        await shared.stored(store, f"j{i}", task_type=TYPE)
        assert await store.claim(TYPE, "w1", 30) is not None
    if store.cluster:
        return
    size = sum(
        len(f) + len(v) for f, v in (await store.redis.hgetall(store.keys.job("j2"))).items()
    )
    store.leased.clear()
    if bound == "jobs":
        store.leased.max_jobs = 2
    else:
        store.leased.max_bytes = 2 * size + size // 2
    for i in range(3):
        flat = await store.redis.hgetall(store.keys.job(f"j{i}"))
        store.leased.put([x for pair in flat.items() for x in pair])

    assert len(store.leased) == 2
    assert store.leased.take("j0") is None  # the oldest went first
    assert store.leased.take("j2") == await store.load("j2")


async def test_a_batched_claim_keeps_each_job_it_leased(store: RedisStore) -> None:
    await shared.stored(store, "j1", task_type=TYPE)
    await shared.stored(store, "j2", task_type=TYPE)

    found = await store.claim_many(TYPE, "w1", 30, 2)

    assert len(found.payloads) == 2
    if store.cluster:
        assert len(store.leased) == 0
        return
    for job_id in ("j1", "j2"):
        kept = store.leased.take(job_id)
        assert kept is not None and kept == await store.load(job_id)


async def test_a_batch_of_a_type_without_limits_pops_and_leases_once(
    redis_url: str, prefix: str
) -> None:
    # One Redis only: the count of commands it ran (INFO commandstats) is what this is about.
    store = RedisStore(aioredis.Redis.from_url(redis_url), prefix)
    await store.scripts.load(store.redis)
    try:
        for i in range(6):
            await shared.stored(store, f"j{i}", task_type=TYPE)
        before = await command_calls(store, "zpopmin", "zadd")

        found = await store.claim_many(TYPE, "w1", 30, 4)

        assert len(found.payloads) == 4
        assert await command_calls(store, "zpopmin", "zadd") == {
            name: calls + 1 for name, calls in before.items()
        }
    finally:
        await store.close()
        await delete_prefix(redis_url, prefix)


async def command_calls(store: RedisStore, *names: str) -> dict[str, int]:
    stats: dict[str, Any] = await store.redis.info("commandstats")
    return {name: int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in names}
