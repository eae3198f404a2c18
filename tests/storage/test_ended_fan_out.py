"""A fan-out whose job ended hands out none of its branches and takes none of their results,
over real Redis and the embedded store.

The job's final write lands while claims are in flight: a claim may pop a branch's queue entry
after that write and before the write's second round trip drops the entries. These tests commit
the end without dropping anything, which is that moment, frozen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from orchestrator.engine import machine
from orchestrator.engine.actions import Actions, DispatchParallel
from orchestrator.engine.effects import Effects
from orchestrator.engine.events import event_without_id
from orchestrator.engine.model import Job, JobStatus, TaskStatus
from orchestrator.engine.parallel import outcome
from orchestrator.storage import codec
from orchestrator.storage.redis_store import RedisStore
from tests.builders import STATES, new_job

TYPE = "shard"
BRANCHES = 3
LUA = Path(__file__).resolve().parents[2] / "orchestrator" / "storage" / "lua"

Ending = Callable[[Job, float], Job]

ENDINGS: dict[str, Ending] = {
    "fail_fast": lambda job, now: machine.fail(job, "BRANCH_FAILED", "a branch failed", now),
    "cancel": lambda job, now: machine.cancel(job, now)[0],
    "result_timeout": lambda job, now: machine.result_timed_out(job, now)[0],
}


async def fanned_out(store: RedisStore, job_id: str) -> Job:
    """A stored job waiting on ``BRANCHES`` queued branches of ``TYPE``."""
    actions = Actions()
    actions.dispatch_parallel(
        [{"task_type": TYPE, "params": {"i": i}} for i in range(BRANCHES)], aggregate_into="done"
    )
    assert isinstance(actions.chosen, DispatchParallel)
    now = time.time()
    job, effects = machine.start(new_job(job_id, created_at=now), now)
    job, more = machine.enter(job, STATES, actions.chosen, now)
    effects.merge(more)
    assert await store.commit(job.evolve(rev=1), effects) is True
    return job.evolve(rev=1)


async def ended(store: RedisStore, job_id: str, ending: Ending) -> Job:
    """Ends the job as stored now, and drops none of its queue entries."""
    job = await store.load(job_id)
    assert job is not None
    done = ending(job, time.time()).evolve(rev=job.rev + 1)
    assert done.terminal
    assert await store.commit(done, Effects()) is True
    return done


async def history_of(store: RedisStore, job_id: str) -> list[str]:
    loaded = await store.load(job_id)
    assert loaded is not None
    return [e["type"] for e in loaded.history]


@pytest.mark.parametrize("ending", ENDINGS)
async def test_no_branch_of_an_ended_fan_out_is_leased(store: RedisStore, ending: str) -> None:
    await fanned_out(store, "j1")
    assert await store.claim(TYPE, "w1", 30.0) is not None  # one branch was running
    done = await ended(store, "j1", ENDINGS[ending])

    assert await store.claim(TYPE, "w2", 30.0) is None

    # Nothing after the terminal event, and the claim left no lease entry behind.
    assert await history_of(store, "j1") == [e["type"] for e in done.history]
    assert await store.redis.zcard(store.keys.ready(TYPE)) == 0
    assert await store.redis.zcard(store.keys.leases(TYPE)) == 1  # the running branch's
    loaded = await store.load("j1")
    assert loaded is not None and loaded.rev == done.rev


@pytest.mark.parametrize("ending", ENDINGS)
async def test_no_result_of_an_ended_fan_out_is_taken(store: RedisStore, ending: str) -> None:
    await fanned_out(store, "j1")
    await store.claim(TYPE, "w1", 30.0)
    running = await store.load("j1")
    assert running is not None
    (branch,) = [t for t in running.branches.values() if t.status == TaskStatus.LEASED]
    done = await ended(store, "j1", ENDINGS[ending])
    now = time.time()
    event = event_without_id("task_result", now, task_id=branch.task_id, status="success")

    remaining = await store.branch_result(
        branch, "w1", outcome(branch, "success", {}, None, now), event
    )

    assert remaining == -1
    assert await history_of(store, "j1") == [e["type"] for e in done.history]
    fields = await store.redis.hmget(store.keys.job("j1"), "rev", "pending")
    assert fields == [str(done.rev).encode(), b"0"]


async def test_an_ended_job_hands_out_nothing_whatever_its_branch_fields_say(
    store: RedisStore,
) -> None:
    # A job hash written before ended fan-outs cleared their branches' fields: a branch is
    # still "queued" and another "leased" there. The scripts go by the job's status too.
    job = await fanned_out(store, "j1")
    await store.claim(TYPE, "w1", 30.0)
    running = await store.load("j1")
    assert running is not None
    (branch,) = [t for t in running.branches.values() if t.status == TaskStatus.LEASED]
    done = await ended(store, "j1", ENDINGS["cancel"])
    stale = {f"{codec.branch_prefix(t)}status": "queued" for t in job.branches}
    stale[f"{codec.branch_prefix(branch.task_id)}status"] = "leased"
    await store.redis.hset(store.keys.job("j1"), mapping=stale)
    now = time.time()
    event = event_without_id("task_result", now, task_id=branch.task_id, status="success")

    assert await store.claim(TYPE, "w2", 30.0) is None
    result = outcome(branch, "success", {}, None, now)
    assert await store.branch_result(branch, "w1", result, event) == -1

    assert await history_of(store, "j1") == [e["type"] for e in done.history]


def test_an_ended_fan_out_stores_its_stopped_branches_as_over() -> None:
    # Pure: what the final write stores for each branch (reported, or stopped by the end).
    now = time.time()
    actions = Actions()
    actions.dispatch_parallel(
        [{"task_type": TYPE, "params": {"i": i}} for i in range(BRANCHES)],
        aggregate_into="done",
        failure_policy="collect",
    )
    assert isinstance(actions.chosen, DispatchParallel)
    job, _ = machine.enter(new_job(), STATES, actions.chosen, now)
    first = next(iter(job.branches.values()))
    reported, _ = machine.dispatch_timed_out(job, first, now)  # collect: counts as reported
    cancelled, _ = machine.cancel(reported, now)
    assert cancelled.status == JobStatus.CANCELLED

    fields = codec.encode(cancelled)

    statuses = [fields[f"{codec.branch_prefix(t)}status"] for t in job.branches]
    assert statuses == ["done", "", ""]
    assert fields["pending"] == "0"
    assert orjson.loads(fields["doc"])["branches"] == []
