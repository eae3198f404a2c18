"""Lease entries of finished deliveries are removed in batches (``storage/released.py``), over
one Redis, the embedded store and Cluster (where they go at once, as before).

What must hold: an entry goes in the end once a write ending its delivery wins, and stays
when the write does not land (one Redis and embedded); the entry of a delivery that the step
queues again (a decline) goes at once, so that the claim that takes
it again keeps its own lease; a type with ``max_in_flight`` counts its deliveries in flight
exactly.
"""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis

from orchestrator.engine import machine
from orchestrator.engine.model import Job
from orchestrator.storage.redis_store import RedisStore
from tests.conftest import delete_prefix
from tests.helpers import wait_for
from tests.storage import stored as shared

TYPE = "echo"


async def leased_job(store: RedisStore, job_id: str) -> Job:
    await shared.stored(store, job_id, task_type=TYPE)
    assert await store.claim(TYPE, "w1", 30) is not None
    job = await store.load(job_id)
    assert job is not None and job.task is not None
    return job


async def lease_refs(store: RedisStore) -> list[str]:
    return [m.decode() for m in await store.redis.zrange(store.keys.leases(TYPE), 0, -1)]


async def finish(store: RedisStore, job: Job, *, rev: int | None = None) -> bool:
    out = machine.on_result(job, status="success", data={}, err=None, now=time.time())
    after = out.job.evolve(rev=(job.rev if rev is None else rev) + 1)
    return await store.commit(after, out.effects)


async def test_a_result_lease_entry_goes_in_the_end(store: RedisStore) -> None:
    job = await leased_job(store, "j1")
    assert job.task is not None and await lease_refs(store) == [job.task.ref]

    assert await finish(store, job) is True

    if store.cluster:
        assert await lease_refs(store) == []  # at once, as before
        return
    assert len(store.released) == 1
    await wait_for(lambda: len(store.released) == 0, 5, what="the batch to go")
    assert await lease_refs(store) == []


async def test_a_losing_write_leaves_its_lease_entry(store: RedisStore) -> None:
    """The step is decided again on a fresh read; should its process die first, the lease is
    what brings the delivery back (the sweep expires it, or drops it if the job moved on).
    On Cluster the entry lives in another slot and goes with the write, whatever it does."""
    job = await leased_job(store, "j1")
    assert job.task is not None

    assert await finish(store, job, rev=job.rev - 1) is False

    assert len(store.released) == 0
    assert await lease_refs(store) == ([] if store.cluster else [job.task.ref])


async def test_a_declined_delivery_claimed_again_keeps_its_new_lease(store: RedisStore) -> None:
    job = await leased_job(store, "j1")
    assert job.task is not None
    again, effects = machine.released(job, job.task, time.time())

    assert await store.commit(again.evolve(rev=job.rev + 1), effects) is True
    assert len(store.released) == 0
    assert await store.claim(TYPE, "w2", 30) is not None  # the same attempt, the same ref
    await store.released.flush()

    assert await lease_refs(store) == [job.task.ref]
    reloaded = await store.load("j1")
    assert reloaded is not None and reloaded.task is not None
    assert reloaded.task.worker == "w2"


async def test_a_type_with_max_in_flight_counts_exactly(store: RedisStore) -> None:
    store.limited = frozenset({TYPE})
    job = await leased_job(store, "j1")

    assert await finish(store, job) is True

    assert len(store.released) == 0
    assert await store.in_flight([TYPE]) == {TYPE: 0}


async def test_closing_the_store_removes_what_waits(store: RedisStore) -> None:
    job = await leased_job(store, "j1")
    assert await finish(store, job) is True

    await store.released.close()

    assert len(store.released) == 0
    assert await lease_refs(store) == []


async def test_many_results_cost_one_removal(redis_url: str, prefix: str) -> None:
    # One Redis: the command count (INFO commandstats) is what this is about.
    store = RedisStore(aioredis.Redis.from_url(redis_url), prefix)
    await store.scripts.load(store.redis)
    try:
        jobs = [await leased_job(store, f"j{i}") for i in range(10)]
        before = await zrems(store)
        for job in jobs:
            assert await finish(store, job) is True
        await store.released.flush()

        assert await zrems(store) - before == 1
        assert await lease_refs(store) == []
    finally:
        await store.close()
        await delete_prefix(redis_url, prefix)


async def zrems(store: RedisStore) -> int:
    stats: dict[str, Any] = await store.redis.info("commandstats")
    return int(stats.get("cmdstat_zrem", {}).get("calls", 0))
