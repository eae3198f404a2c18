"""A timer or a lease a sweep took, whose step then fails on Redis (restarting: loading its
data, refusing connections), is acted on at this process's next sweep.

A take hides what it took from every process for a hold (30 s for a timer, a lease length for
a lease), so that two sweepers do not both act on it. The chaos soak (``bench/chaos.py``) found
a parent that resumed 30 s after its child ended: the child's end was committed just before a
Redis restart, firing its timer failed on ``BusyLoadingError``, and the taken timer waited out
its hold.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from redis.exceptions import BusyLoadingError

from orchestrator import Actions, Blueprint
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.config import Settings
from orchestrator.dispatch.waiters import Dispatcher
from orchestrator.engine.model import Job, JobStatus
from orchestrator.engine.new_job import NewJob
from orchestrator.loops.sweeper import NOW_HOLD_S, Sweeper
from orchestrator.shell import timers
from orchestrator.shell.jobs import JobRunner
from orchestrator.storage.redis_store import RedisStore
from tests.helpers import wait_for

parent = Blueprint("sweep_parent")
child = Blueprint("sweep_child")
leased = Blueprint("sweep_leased")


@parent.handler(start=True)
async def spawn(actions: Actions) -> None:
    actions.run_blueprint("sweep_child", {}, transitions={"finished": "resumed"})


@parent.handler(end=True)
async def resumed() -> dict[str, Any]:
    return {"resumed": True}


@child.handler(start=True)
async def at_once(actions: Actions) -> None:
    actions.go_to("done")


@child.handler(end=True)
async def done() -> dict[str, Any]:
    return {}


@leased.handler(start=True)
async def ask(actions: Actions) -> None:
    actions.dispatch_task("sweep_work", {}, transitions={"success": "done_leased"}, retries=1)


@leased.handler(end=True)
async def done_leased() -> dict[str, Any]:
    return {}


async def _no_claim(*_: Any) -> Any:
    raise AssertionError("the sweeper claims nothing")


def _sweeper(store: RedisStore) -> tuple[JobRunner, Sweeper]:
    registry = BlueprintRegistry([parent, child, leased])
    runner = JobRunner(store, registry, Settings(), origin="t")
    return runner, Sweeper(runner, Dispatcher(_no_claim))


def _load_fails_once(store: RedisStore) -> None:
    load = store.load
    failed: list[str] = []

    async def restarting(job_id: str) -> Job | None:
        if not failed:
            failed.append(job_id)
            raise BusyLoadingError("Redis is loading the dataset in memory")
        return await load(job_id)

    store.load = restarting  # type: ignore[method-assign]


async def test_a_child_timer_whose_firing_failed_fires_at_the_next_sweep(
    store: RedisStore,
) -> None:
    runner, sweeper = _sweeper(store)
    job, _ = await runner.create(parent, "client", NewJob({}))  # the child ends at once
    _load_fails_once(store)

    with pytest.raises(BusyLoadingError):
        await sweeper.fire_timers()
    assert await sweeper.fire_timers()

    resumed = await store.load(job.id)
    assert resumed is not None and resumed.status == JobStatus.FINISHED, resumed


async def test_a_lease_whose_expiry_failed_expires_at_the_next_sweep(store: RedisStore) -> None:
    runner, sweeper = _sweeper(store)
    job, _ = await runner.create(leased, "client", NewJob({}))
    (claimed,) = (await store.claim_many("sweep_work", "w-gone", 30.0, 1)).payloads
    assert claimed
    # Its deadline has passed, and its worker never heartbeat: the lease is lost.
    await store.redis.zadd(store.keys.leases("sweep_work"), {f"{job.id}|{job.id}.1|1|0": 0})
    _load_fails_once(store)

    with pytest.raises(BusyLoadingError):
        await sweeper.expire_leases("sweep_work")
    assert await sweeper.expire_leases("sweep_work")

    requeued = await store.load(job.id)
    assert requeued is not None and requeued.task is not None
    assert requeued.task.attempt == 2, requeued.task


async def test_a_timer_fired_after_its_commit_by_a_process_that_died_fires_elsewhere_soon(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child's end is fired right after its commit; that process dies in the middle. Any
    other process fires it once the short hold of such takes ran out, not 30 s later."""
    runner, doomed = _sweeper(store)
    runner.after_commit.append(doomed.fire_due_now)
    fire = timers.fire_timer
    froze = asyncio.Event()

    async def freezes_once(on: JobRunner, member: str) -> None:
        if not froze.is_set():
            froze.set()
            await asyncio.Event().wait()  # frozen until the process is killed
        await fire(on, member)

    monkeypatch.setattr(timers, "fire_timer", freezes_once)
    job, _ = await runner.create(parent, "client", NewJob({}))
    await wait_for(froze.is_set, 5, "the commit's own firing to take the timer")
    for task in list(doomed._background):  # the process dies
        task.cancel()

    _, other = _sweeper(store)
    started = time.monotonic()
    await wait_for(other.fire_timers, NOW_HOLD_S + 2, "another process to fire the timer")
    assert time.monotonic() - started < NOW_HOLD_S + 1
    resumed = await store.load(job.id)
    assert resumed is not None and resumed.status == JobStatus.FINISHED, resumed
