"""Routing by requirements and per-type limits in the store, over every backend."""

from __future__ import annotations

import time
from typing import Any

from orchestrator.engine.effects import Effects
from orchestrator.engine.model import Job
from orchestrator.storage.queues import Throttled
from orchestrator.storage.redis_store import RedisStore
from tests.storage import stored as shared
from tests.storage.stored import next_millisecond, payload_of

TYPE = "render"
GPU_EU = {"tags": ["gpu"], "region": "eu"}
ENCODED = "+gpu,region=eu"
QUEUE = f"{TYPE}#{ENCODED}"


async def stored(store: RedisStore, job_id: str, *args: Any, **kwargs: Any) -> Job:
    return await shared.stored(store, job_id, *args, task_type=TYPE, **kwargs)


def routes_for(store: RedisStore, tags: set[str], **labels: str) -> list[str]:
    return store.routes_met(TYPE, frozenset(tags), frozenset(labels.items()))


async def test_a_task_with_requirements_waits_in_its_own_queue(store: RedisStore) -> None:
    job = await stored(store, "j1", GPU_EU)
    assert job.task is not None and job.task.queue == QUEUE

    assert await store.redis.zcard(store.keys.ready(TYPE)) == 0
    assert await store.redis.zcard(store.keys.ready(QUEUE)) == 1
    assert await store.redis.smembers(store.keys.routes(TYPE)) == {ENCODED.encode()}
    assert store.keys.ready(QUEUE).startswith(f"{store.keys.prefix}:{{q:{TYPE}}}:")
    assert await store.queue_depths([TYPE]) == {TYPE: 1}
    assert await store.route_depths([TYPE]) == {TYPE: 0, QUEUE: 1}


async def test_only_a_worker_meeting_every_requirement_gets_the_task(store: RedisStore) -> None:
    job = await stored(store, "j1", GPU_EU)

    for tags, labels in [({"gpu"}, {}), ({"gpu"}, {"region": "us"}), (set(), {"region": "eu"})]:
        routes = routes_for(store, tags, **labels)
        assert routes == []
        assert await store.claim(TYPE, "w-wrong", 30.0, routes=routes) is None

    routes = routes_for(store, {"gpu", "ssd"}, region="eu", zone="a")
    assert routes == [ENCODED]
    assert await store.claim(TYPE, "w-right", 30.0, routes=routes) == payload_of(job)
    loaded = await store.load("j1")
    assert loaded is not None and loaded.task is not None
    assert (loaded.task.worker, loaded.task.requires) == ("w-right", ENCODED)


async def test_a_claim_takes_the_best_head_across_the_queues_it_may_read(
    store: RedisStore,
) -> None:
    order = []
    for job_id, requires, priority in [
        ("a", None, 0),
        ("b", GPU_EU, 0),
        ("c", {"tags": ["gpu"]}, 0),
        ("d", None, 0),
        ("e", GPU_EU, 5),
    ]:
        order.append(await stored(store, job_id, requires, priority=priority))
        next_millisecond()
    a, b, c, d, e = order
    routes = routes_for(store, {"gpu"}, region="eu")
    assert len(routes) == 2

    claimed = [await store.claim(TYPE, "w1", 30.0, routes=routes) for _ in range(6)]

    assert claimed == [payload_of(j) for j in (e, a, b, c, d)] + [None]


async def test_a_worker_without_the_tags_still_takes_plain_tasks(store: RedisStore) -> None:
    await stored(store, "routed", GPU_EU)
    plain = await stored(store, "plain")

    assert await store.claim(TYPE, "cpu-worker", 30.0, routes=routes_for(store, set())) == (
        payload_of(plain)
    )
    assert await store.claim(TYPE, "cpu-worker", 30.0) is None
    assert await store.redis.zcard(store.keys.ready(QUEUE)) == 1


async def test_the_requirement_sets_are_read_back_from_the_store(store: RedisStore) -> None:
    await stored(store, "j1", GPU_EU)
    store.routes.clear()  # as in a process that never queued such a task
    assert routes_for(store, {"gpu"}, region="eu") == []

    await store.refresh_routes()

    assert routes_for(store, {"gpu"}, region="eu") == [ENCODED]


async def test_a_routed_backoff_is_promoted_into_its_own_queue(store: RedisStore) -> None:
    now = time.time()
    job = await stored(store, "j1", GPU_EU, delay_at=now - 1)
    await stored(store, "later", GPU_EU, delay_at=now + 60)

    assert await store.promote_delayed(TYPE) == [QUEUE]
    assert await store.promote_delayed(TYPE) == []

    routes = routes_for(store, {"gpu"}, region="eu")
    assert await store.claim(TYPE, "w1", 30.0, routes=routes) == payload_of(job)
    assert await store.redis.zcard(store.keys.delayed(QUEUE)) == 1


async def test_dropped_and_restored_routed_entries_use_the_routed_queue(
    store: RedisStore,
) -> None:
    job = await stored(store, "j1", GPU_EU)
    assert job.task is not None
    routes = routes_for(store, {"gpu"}, region="eu")
    await store.claim(TYPE, "w1", 30.0, routes=routes)
    # the process died between claim.lua and lease.lua: the entry goes back where it was
    await store.restore_hint(job.task.queue, job.task.ref, 0, "origin")
    assert await store.redis.zcard(store.keys.ready(QUEUE)) == 1
    assert await store.redis.zcard(store.keys.leases(TYPE)) == 0

    loaded = await store.load("j1")
    assert loaded is not None
    dropped = loaded.evolve(rev=loaded.rev + 1, task=None)
    assert await store.commit(dropped, Effects(drop=[(job.task.queue, job.task.ref)])) is True

    assert await store.redis.zcard(store.keys.ready(QUEUE)) == 0


async def test_max_in_flight_holds_tasks_back_in_order(store: RedisStore) -> None:
    jobs = []
    for job_id in ("a", "b", "c"):
        jobs.append(await stored(store, job_id, GPU_EU if job_id == "b" else None))
        next_millisecond()
    routes = routes_for(store, {"gpu"}, region="eu")

    def claim(worker: str) -> Any:
        return store.claim(TYPE, worker, 30.0, routes=routes, max_in_flight=2)

    assert await claim("w1") == payload_of(jobs[0])
    assert await claim("w2") == payload_of(jobs[1])
    assert await claim("w3") == Throttled("max_in_flight", 0.0)
    assert await store.in_flight([TYPE]) == {TYPE: 2}
    assert await store.redis.zcard(store.keys.ready(TYPE)) == 1  # still queued

    assert jobs[0].task is not None
    await store.drop_lease(TYPE, jobs[0].task.ref)  # a delivery ended

    assert await claim("w3") == payload_of(jobs[2])
    assert await claim("w4") is None  # empty: nothing to hold back


async def test_max_per_second_spends_a_bucket_of_one_second(store: RedisStore) -> None:
    jobs = [await stored(store, job_id) for job_id in ("a", "b", "c")]

    def claim() -> Any:
        return store.claim(TYPE, "w1", 30.0, max_per_second=2.0)

    assert [await claim(), await claim()] == [payload_of(jobs[0]), payload_of(jobs[1])]
    held = await claim()

    assert isinstance(held, Throttled) and held.reason == "max_per_second"
    assert 0 < held.retry_in_s <= 0.5
    assert await store.redis.zcard(store.keys.ready(TYPE)) == 1
