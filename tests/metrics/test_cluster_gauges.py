"""Gauges that hold for the whole deployment: read from Redis at scrape time."""

from __future__ import annotations

from orchestrator.appkeys import STATS
from tests.api.conftest import Api, MakeApi
from tests.helpers import wait_for
from tests.metrics.conftest import scrape


async def test_queue_depth_and_jobs_by_status_with_no_worker(api: Api) -> None:
    k = 3
    for _ in range(k):
        await api.create({"name": "Ada"})
    await api.create({"n": 1}, endpoint="v1/flaky")

    m = await scrape(api)

    assert m.value("orchestrator_queue_depth", task_type="greet") == k
    assert m.value("orchestrator_queue_depth", task_type="flaky") == 1
    assert m.value("orchestrator_jobs", blueprint="greeting", status="waiting_for_worker") == k
    assert m.value("orchestrator_jobs", blueprint="flaky", status="waiting_for_worker") == 1
    assert m.value("orchestrator_workers_active") == 0


async def test_jobs_leave_the_gauge_when_they_end(api: Api) -> None:
    job_id = await api.create({"name": "Ada"})
    await api.register("w1")
    task = await api.take("w1")

    assert (await scrape(api)).value(
        "orchestrator_jobs", blueprint="greeting", status="waiting_for_worker"
    ) == 1

    await api.result(task, "w1", data={"greeting": "hi"})
    await api.wait_status(job_id, "finished")

    # The job is readable as finished a moment before the transition's observer has counted
    # it (the observer runs once the write returns): wait for the count, don't race it.
    async def left() -> bool:
        m = await scrape(api)
        waiting = m.value("orchestrator_jobs", blueprint="greeting", status="waiting_for_worker")
        return waiting == 0 and m.value("orchestrator_queue_depth", task_type="greet") == 0

    await wait_for(left, timeout=5.0, what="the job to leave the gauge")


async def test_another_process_sees_the_counts_after_the_flush_loop(make_api: MakeApi) -> None:
    """Two apps on one Redis and prefix, as two orchestrator processes: B reports the jobs A
    created once A's 1 s flush has run; their registries do not clash."""
    a = await make_api()
    b = await make_api()
    for _ in range(2):
        await a.create({"name": "Ada"})

    async def b_sees_them() -> bool:
        m = await scrape(b)
        waiting = m.value("orchestrator_jobs", blueprint="greeting", status="waiting_for_worker")
        return waiting == 2

    await wait_for(b_sees_them, timeout=5.0, what="process B to report A's jobs")
    m = await scrape(b)
    assert m.value("orchestrator_queue_depth", task_type="greet") == 2
    # counters stay per process: B created nothing
    assert m.series("orchestrator_jobs_created_total") == {}
    assert (await scrape(a)).count("orchestrator_jobs_created_total", blueprint="greeting") == 2


async def test_recount_rebuilds_counts_from_the_job_hashes(api: Api) -> None:
    for _ in range(3):
        await api.create({"name": "Ada"})
    finished = await api.create({"name": ""})  # fails validation at once: terminal
    await api.wait_status(finished, "failed")
    stats = api.app[STATS]
    await stats.flush()
    # lost deltas (a SIGKILLed process) and a stale field
    await api.store.redis.hset(
        api.store.keys.stats_jobs,
        mapping={"greeting|waiting_for_worker": 1, "greeting|running": 5},
    )

    counts = await stats.recount()

    assert counts == {"greeting": {"waiting_for_worker": 3, "running": 0}}
    m = await scrape(api)
    assert m.value("orchestrator_jobs", blueprint="greeting", status="waiting_for_worker") == 3
    assert m.value("orchestrator_jobs", blueprint="greeting", status="running") == 0


async def test_recount_scans_only_job_hashes(api: Api) -> None:
    await api.create({"name": "Ada"})
    await api.register("w-1:job")  # ids may hold ':', so worker keys could end in ':job'
    redis, keys = api.store.redis, api.store.keys
    await redis.sadd(keys.worker_cancels("w-1:job"), "x")
    matched = [k.decode() async for k in redis.scan_iter(match=keys.job_pattern())]

    assert len(matched) == 1 and matched[0].endswith("}:job"), matched
    assert await api.app[STATS].recount() == {"greeting": {"waiting_for_worker": 1}}


async def test_one_process_wins_the_periodic_recount(make_api: MakeApi) -> None:
    a, b = await make_api(), await make_api()

    assert await a.app[STATS].recount_if_due(600, "a") is True
    assert await b.app[STATS].recount_if_due(600, "b") is False
