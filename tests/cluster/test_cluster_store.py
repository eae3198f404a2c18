"""What assumed one node before the cluster client: the dev flush, the statistics recount, the
health check, and the cluster URL."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio.cluster import ClusterNode

from orchestrator.engine.effects import Effects
from orchestrator.engine.model import Job
from orchestrator.storage import cluster
from orchestrator.storage.cluster import cluster_client, seeds
from orchestrator.storage.redis_store import RedisStore
from orchestrator.storage.stats import JobStats
from tests.builders import dispatch, waiting_job
from tests.cluster.live import LiveCluster
from tests.storage.conftest import delete_cluster_prefix


@pytest.fixture
async def store(redis_cluster: LiveCluster) -> AsyncIterator[RedisStore]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    built = RedisStore(cluster_client(redis_cluster.url, 8), prefix)  # type: ignore[arg-type]
    await built.scripts.load(built.redis)
    try:
        yield built
    finally:
        await delete_cluster_prefix(built.redis, prefix)
        await built.close()


async def commit_jobs(store: RedisStore, count: int) -> list[str]:
    ids = [f"job-{n}" for n in range(count)]
    for job_id in ids:
        job, effects = waiting_job(job_id, now=time.time(), action=dispatch("echo"))
        assert await store.commit(job.evolve(rev=1), effects) is True
    return ids


async def primaries_holding(store: RedisStore, ids: list[str]) -> set[str]:
    return {store.redis.get_node_from_key(store.keys.job(i)).name for i in ids}


async def test_the_dev_flush_deletes_keys_on_every_primary(store: RedisStore) -> None:
    ids = await commit_jobs(store, 30)
    assert len(await primaries_holding(store, ids)) == 3  # the test spans every primary

    deleted = await store.delete_all(batch=7)  # batches that mix slots

    assert deleted >= 30 + 2  # the jobs, the queue, the task type index
    assert [k async for k in store.redis.scan_iter(match=store.keys.all_pattern())] == []


async def test_stats_flush_in_one_multi_and_recount_jobs_on_every_primary(
    store: RedisStore,
) -> None:
    ids = await commit_jobs(store, 30)
    assert len(await primaries_holding(store, ids)) == 3
    stats = JobStats(store)
    job, effects = waiting_job("counted", now=time.time(), action=dispatch("echo"))
    stats.observe(job, job.evolve(rev=1), effects)  # a delta the recount's flush writes (MULTI)

    counts = await stats.recount()

    assert sum(n for per in counts.values() for n in per.values()) == 30


async def test_health_lists_every_primary_and_every_slot_served(
    redis_cluster: LiveCluster,
) -> None:
    client = cluster_client(redis_cluster.url, 2)
    try:
        await client.initialize()
        ok, detail = await cluster.health(client)
    finally:
        await client.aclose()

    assert ok
    assert sorted(int(p["node"].rsplit(":", 1)[1]) for p in detail["primaries"]) == sorted(
        redis_cluster.primaries()
    )
    assert {p["slots_ok"] for p in detail["primaries"]} == {cluster.SLOTS}


def job_elsewhere(store: RedisStore, key: str) -> str:
    """A job id whose hash slot is on another node than ``key``'s."""
    node = store.redis.get_node_from_key(key)
    return next(
        f"held-{n}"
        for n in range(100)
        if store.redis.get_node_from_key(store.keys.job(f"held-{n}")) is not node
    )


async def commit_held(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch, job: Job, effects: Effects
) -> tuple[asyncio.Task[bool], asyncio.Event]:
    """Starts the commit of ``job`` with its job node's part held back (as a failover can hold
    it for seconds) until the returned event is set; returns once the other parts are sent."""
    job_node = store.redis.get_node_from_key(store.keys.job(job.id))
    gate, held, send = asyncio.Event(), asyncio.Event(), ClusterNode.execute_pipeline

    async def held_pipeline(node: ClusterNode, commands: Any) -> Any:
        if node is job_node:
            held.set()
            await gate.wait()
        return await send(node, commands)

    monkeypatch.setattr(ClusterNode, "execute_pipeline", held_pipeline)
    commit = asyncio.create_task(store.commit(job, effects))
    await asyncio.wait_for(held.wait(), 5)
    return commit, gate


async def test_a_task_is_claimable_only_once_its_job_is_written(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job and its queue are on different nodes, and a pipeline's commands to different
    nodes run in no set order (a failover holds one node's part for seconds). A claim that met
    the ready entry before the job existed would drop it as stale: the task would never run."""
    job_id = job_elsewhere(store, store.keys.ready("echo"))
    job, effects = waiting_job(job_id, now=time.time(), action=dispatch("echo"))
    commit, gate = await commit_held(store, monkeypatch, job.evolve(rev=1), effects)

    assert await store.claim("echo", "w1", 5) is None  # nothing to lease yet
    gate.set()
    assert await commit is True

    assert await store.claim("echo", "w1", 5) is not None
    assert await store.redis.zcard(store.keys.delayed("echo")) == 0


async def test_a_timer_due_at_once_comes_due_only_once_its_job_is_written(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for a timer due at once (a child's end resuming its parent): a sweep taking
    it before the job write would find nothing to do, drop it, and the parent would wait on."""
    job_id = job_elsewhere(store, store.keys.timers)
    now = time.time()
    job, effects = waiting_job(job_id, now=now, action=dispatch("echo"))
    soon, later = f"child|{job_id}|c1|0", f"result|{job_id}||0"
    effects.timers += [(soon, now), (later, now + 3600)]
    commit, gate = await commit_held(store, monkeypatch, job.evolve(rev=1), effects)

    assert await store.take_due_timers(10, 5) == []  # not due while the job is unwritten
    gate.set()
    assert await commit is True

    assert await store.take_due_timers(10, 5) == [soon]
    assert await store.redis.zscore(store.keys.timers, later) == int((now + 3600) * 1000)


async def test_a_connection_closed_under_a_pipeline_is_retried(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """redis-py closes every connection of the client when a command meets CLUSTERDOWN; a
    pipeline writing on one at that moment gets uvloop's RuntimeError, no ConnectionError."""
    job_node = store.redis.get_node_from_key(store.keys.job("closed"))
    send, closed = ClusterNode.execute_pipeline, []

    async def closed_once(node: ClusterNode, commands: Any) -> Any:
        if node is job_node and not closed:
            closed.append(node)
            raise RuntimeError("unable to perform operation on <TCPTransport closed=True>")
        return await send(node, commands)

    monkeypatch.setattr(ClusterNode, "execute_pipeline", closed_once)
    job, effects = waiting_job("closed", now=time.time(), action=dispatch("echo"))

    assert await store.commit(job.evolve(rev=1), effects) is True
    assert closed == [job_node]
    assert await store.load("closed") is not None


def test_a_cluster_url_names_its_seeds_and_credentials() -> None:
    assert seeds("redis+cluster://a:1,b:2") == ([("a", 1), ("b", 2)], None, None)
    assert seeds("redis+cluster://u:p%40ss@a:1") == ([("a", 1)], "u", "p@ss")
    with pytest.raises(ValueError):
        seeds("redis+cluster://a")
