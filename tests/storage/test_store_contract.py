"""The ``RedisStore`` contract, run over real Redis and over the embedded (fakeredis) server."""

from __future__ import annotations

import dataclasses
import time
import types
from typing import Any

import orjson
import pytest

from orchestrator.engine import machine
from orchestrator.engine.effects import Effects
from orchestrator.engine.events import task_leased
from orchestrator.engine.model import Job, TaskStatus
from orchestrator.storage import redis_store
from orchestrator.storage.cluster import HINT_GRACE_S
from orchestrator.storage.redis_store import RedisStore
from tests.builders import dispatch, waiting_job
from tests.helpers import wait_for
from tests.storage import stored as shared
from tests.storage.commands import command_subscription
from tests.storage.stored import next_millisecond, payload_of

TYPE = "echo"


async def stored(store: RedisStore, job_id: str, *args: Any, **kwargs: Any) -> Job:
    return await shared.stored(store, job_id, *args, task_type=TYPE, **kwargs)


async def members(store: RedisStore, key: str) -> list[str]:
    return [m.decode() for m in await store.redis.zrange(key, 0, -1)]


# -- jobs ------------------------------------------------------------------------------------


async def test_commit_creates_the_job_at_rev_1(store: RedisStore) -> None:
    job = await stored(store, "j1")

    loaded = await store.load("j1")

    assert loaded == job
    assert loaded is not None and loaded.rev == 1
    assert await members(store, store.keys.ready(TYPE)) == [job.task.ref if job.task else ""]
    assert await store.task_types() == {TYPE}


async def test_a_commit_on_a_stale_rev_changes_nothing(store: RedisStore) -> None:
    job = await stored(store, "j1")
    moved = job.evolve(state="work", updated_at=job.updated_at + 1)

    assert await store.commit(moved.evolve(rev=1), Effects()) is False  # expects rev 0
    assert await store.commit(moved.evolve(rev=3), Effects()) is False  # expects rev 2
    assert await store.load("j1") == job

    assert await store.commit(moved.evolve(rev=2), Effects()) is True
    assert await store.load("j1") == moved.evolve(rev=2)


async def test_load_of_an_unknown_job_is_none(store: RedisStore) -> None:
    job = await stored(store, "j1")

    assert await store.load("nope") is None
    assert await store.load_many(["nope", "j1"]) == [None, job]


async def test_a_terminal_commit_keeps_the_job_for_the_retention(store: RedisStore) -> None:
    job = await stored(store, "j1")
    done, effects = machine.cancel(job, time.time())

    assert await store.commit(done.evolve(rev=2), effects, ttl_s=300) is True

    ttl = await store.redis.ttl(store.keys.job("j1"))
    assert 0 < ttl <= 300
    assert await store.redis.zcard(store.keys.ready(TYPE)) == 0


# -- claims ----------------------------------------------------------------------------------


async def test_claim_on_an_empty_queue_is_none(store: RedisStore) -> None:
    assert await store.claim(TYPE, "w1", 30.0) is None


async def test_claim_takes_higher_priority_first_then_fifo(store: RedisStore) -> None:
    # ids sort against arrival order, so a tie broken by name would show up
    jobs = []
    for job_id, priority in [("z-low", 0), ("y-mid-1", 5), ("x-mid-2", 5), ("w-top", 9)]:
        jobs.append(await stored(store, job_id, priority=priority))
        next_millisecond()
    low, mid_1, mid_2, top = jobs

    claimed = [await store.claim(TYPE, "w1", 30.0) for _ in range(5)]

    assert claimed == [payload_of(top), payload_of(mid_1), payload_of(mid_2), payload_of(low), None]


async def test_claim_leases_the_job_to_the_worker(store: RedisStore) -> None:
    job = await stored(store, "j1")
    before = time.time()

    payload = await store.claim(TYPE, "worker-7", 30.0)

    after = time.time()
    assert payload == payload_of(job)
    loaded = await store.load("j1")
    assert loaded is not None and loaded.task is not None
    assert loaded.task.status == TaskStatus.LEASED
    assert loaded.task.worker == "worker-7"
    assert loaded.task.leased_at is not None and before <= loaded.task.leased_at <= after
    assert loaded.rev == 2
    # the engine's event, whichever script recorded it (claim_lease.lua fills in its frame)
    leased = task_leased("j1.1", 1, "worker-7", loaded.task.leased_at)
    assert loaded.history[-1] == {"id": len(job.history) + 1, **leased}
    assert list(loaded.history[-1]) == ["id", *leased]
    # nothing else changed
    assert loaded.evolve(task=job.task, rev=1, history=loaded.history[:-1]) == job


async def test_claim_moves_the_ref_from_ready_to_leases(store: RedisStore) -> None:
    job = await stored(store, "j1")
    assert job.task is not None
    before = time.time()

    await store.claim(TYPE, "w1", 30.0)

    assert await store.redis.zcard(store.keys.ready(TYPE)) == 0
    deadline = await store.redis.zscore(store.keys.leases(TYPE), job.task.ref)
    assert deadline is not None
    assert (before + 30) * 1000 - 5 <= deadline <= (time.time() + 30) * 1000 + 5


async def test_claim_skips_a_ref_whose_job_was_never_stored(store: RedisStore) -> None:
    ghost, effects = waiting_job("ghost", now=time.time(), action=dispatch(TYPE, priority=9))
    assert await store.commit(ghost.evolve(rev=2), effects) is False
    assert ghost.task is not None
    if store.cluster:  # parked until its job write wins (redis_store.py): say it came due
        assert await members(store, store.keys.delayed(TYPE)) == [ghost.task.ref]
    else:  # the entries are written by the job write's script: a loser leaves none
        assert await members(store, store.keys.delayed(TYPE)) == []
        assert await members(store, store.keys.ready(TYPE)) == []
    await store.redis.zadd(store.keys.ready(TYPE), {ghost.task.ref: 0})
    assert await members(store, store.keys.ready(TYPE)) == [ghost.task.ref]
    real = await stored(store, "real")

    assert await store.claim(TYPE, "w1", 30.0) == payload_of(real)
    assert await store.load("ghost") is None
    assert await members(store, store.keys.leases(TYPE)) == [real.task.ref if real.task else ""]


async def test_a_ref_claimed_before_its_job_write_waits_for_it(cluster_store: RedisStore) -> None:
    store = cluster_store
    # One Redis writes an entry with its job (apply.lua): only Cluster can meet one early.
    job, effects = waiting_job("j1", now=time.time(), action=dispatch(TYPE))
    assert job.task is not None
    ref = job.task.ref
    await store.redis.zadd(store.keys.ready(TYPE), {ref: 0})  # the entry landed first

    assert await store.claim(TYPE, "w1", 30.0) is None

    assert await members(store, store.keys.delayed(TYPE)) == [ref]  # put back, not dropped
    assert await members(store, store.keys.leases(TYPE)) == []
    assert await store.commit(job.evolve(rev=1), effects) is True  # the job write lands
    assert await store.claim(TYPE, "w1", 30.0) == payload_of(job)


async def test_a_ref_whose_job_never_comes_is_dropped_in_the_end(cluster_store: RedisStore) -> None:
    store = cluster_store
    ghost = "ghost|ghost.1|1|0"
    await store.redis.zadd(store.keys.ready(TYPE), {ghost: 0})
    assert await store.claim(TYPE, "w1", 30.0) is None
    # it has waited for its job longer than HINT_GRACE_S: stale after all
    since = (time.time() - HINT_GRACE_S - 1) * 1000
    await store.redis.zadd(store.keys.early(TYPE), {ghost: since})
    await store.redis.zadd(store.keys.ready(TYPE), {ghost: 0})  # due again
    await store.redis.zrem(store.keys.delayed(TYPE), ghost)

    assert await store.claim(TYPE, "w1", 30.0) is None

    for key in (store.keys.ready, store.keys.delayed, store.keys.leases, store.keys.early):
        assert await members(store, key(TYPE)) == []


async def test_claim_goes_past_a_long_run_of_stale_refs(store: RedisStore) -> None:
    # more than one claim_lease.lua call gives up on (16): the claim calls again
    await store.redis.zadd(
        store.keys.ready(TYPE), {f"ghost{i}|ghost{i}.1|1|9": i for i in range(40)}
    )
    real = await stored(store, "real")

    assert await store.claim(TYPE, "w1", 30.0) == payload_of(real)
    assert await members(store, store.keys.leases(TYPE)) == [real.task.ref if real.task else ""]
    assert await store.redis.zcard(store.keys.ready(TYPE)) == 0


async def test_claim_skips_a_ref_for_an_old_attempt(store: RedisStore) -> None:
    job = await stored(store, "j1")
    assert job.task is not None
    second = job.evolve(rev=2, task=dataclasses.replace(job.task, attempt=2))
    assert second.task is not None
    next_millisecond()
    assert await store.commit(second, Effects(enqueue=[(TYPE, second.task.ref, 0)])) is True

    payload = await store.claim(TYPE, "w1", 30.0)

    assert payload == payload_of(second)
    assert orjson.loads(payload)["attempt"] == 2
    assert await members(store, store.keys.leases(TYPE)) == [second.task.ref]
    assert await store.claim(TYPE, "w1", 30.0) is None


async def test_a_ref_of_a_terminal_job_is_not_delivered(store: RedisStore) -> None:
    job = await stored(store, "j1")
    failed = machine.fail(job, "X", "gone", time.time())
    assert await store.commit(failed.evolve(rev=2), Effects()) is True  # no clean-up of the ref

    assert await store.claim(TYPE, "w1", 30.0) is None

    assert await store.redis.zcard(store.keys.ready(TYPE)) == 0
    assert await store.redis.zcard(store.keys.leases(TYPE)) == 0
    loaded = await store.load("j1")
    assert loaded is not None and loaded.rev == 2


async def test_a_duplicate_hint_leaves_the_live_lease_alone(store: RedisStore) -> None:
    job = await stored(store, "j1")
    assert job.task is not None
    ref = job.task.ref
    await store.claim(TYPE, "w1", 30.0)
    deadline = await store.redis.zscore(store.keys.leases(TYPE), ref)
    # A second process made the same transition (the same result sent twice) and lost the
    # race; its queue hint (on Cluster written apart from its job write) names the delivery
    # w1 now holds.
    assert await store.commit(job, Effects(enqueue=[(TYPE, ref, 0)])) is False
    await store.redis.zadd(store.keys.ready(TYPE), {ref: 0})

    assert await store.claim(TYPE, "w2", 30.0) is None

    assert await store.redis.zscore(store.keys.leases(TYPE), ref) == deadline
    loaded = await store.load("j1")
    assert loaded is not None and loaded.task is not None and loaded.task.worker == "w1"


async def test_a_losing_commit_leaves_the_queues_alone(store: RedisStore) -> None:
    job = await stored(store, "j1")
    assert job.task is not None
    cancelled, effects = machine.cancel(job, time.time())  # decided on rev 1: task queued
    await store.claim(TYPE, "w1", 30.0)  # meanwhile a worker took it: rev 2
    assert effects.drop == [(TYPE, job.task.ref)]

    assert await store.commit(cancelled.evolve(rev=2), effects) is False

    assert await members(store, store.keys.leases(TYPE)) == [job.task.ref]
    loaded = await store.load("j1")
    assert loaded is not None and loaded.task is not None
    assert loaded.task.status == TaskStatus.LEASED


async def test_a_lease_is_due_only_after_its_deadline_and_taken_once(store: RedisStore) -> None:
    job = await stored(store, "j1")
    assert job.task is not None
    await store.claim(TYPE, "w1", 0.2)

    assert await store.take_due_leases(TYPE, 10, 30.0) == []
    due = await wait_for(lambda: store.take_due_leases(TYPE, 10, 30.0), timeout=5, what="lease")

    assert due == [job.task.ref]
    assert await store.take_due_leases(TYPE, 10, 30.0) == []  # hidden from a second sweeper
    hidden_until = await store.redis.zscore(store.keys.leases(TYPE), job.task.ref)
    assert hidden_until >= (time.time() + 29) * 1000


async def test_rearm_and_drop_lease(store: RedisStore) -> None:
    job = await stored(store, "j1")
    assert job.task is not None
    ref = job.task.ref
    await store.claim(TYPE, "w1", 30.0)

    await store.rearm_lease(TYPE, ref, 2_000.0)
    assert await store.redis.zscore(store.keys.leases(TYPE), ref) == 2_000_000
    await store.rearm_lease(TYPE, "not|a|lease|0", 1.0)  # only existing entries move
    assert await members(store, store.keys.leases(TYPE)) == [ref]

    await store.drop_lease(TYPE, ref)
    assert await store.redis.zcard(store.keys.leases(TYPE)) == 0


async def test_restore_hint_puts_a_ref_back_in_ready(store: RedisStore) -> None:
    job = await stored(store, "j1", priority=3)
    assert job.task is not None
    await store.claim(TYPE, "w1", 30.0)
    # the process died between claim.lua and lease.lua: the job still says queued
    assert await store.commit(job.evolve(rev=3), Effects()) is True

    await store.restore_hint(TYPE, job.task.ref, 3, "origin")

    assert await store.redis.zcard(store.keys.leases(TYPE)) == 0
    assert await store.claim(TYPE, "w2", 30.0) == payload_of(job)


async def test_promote_delayed_moves_only_due_entries_in_priority_order(
    store: RedisStore,
) -> None:
    now = time.time()
    low = await stored(store, "a-low", priority=2, delay_at=now - 1)
    high = await stored(store, "b-high", priority=7, delay_at=now - 0.5)
    later = await stored(store, "c-later", priority=9, delay_at=now + 60)
    assert await store.redis.zcard(store.keys.ready(TYPE)) == 0
    assert await store.claim(TYPE, "w1", 30.0) is None

    assert await store.promote_delayed(TYPE) == [TYPE]
    assert await store.promote_delayed(TYPE) == []

    assert await store.claim(TYPE, "w1", 30.0) == payload_of(high)
    assert await store.claim(TYPE, "w1", 30.0) == payload_of(low)
    assert await store.claim(TYPE, "w1", 30.0) is None
    assert later.task is not None
    assert await members(store, store.keys.delayed(TYPE)) == [later.task.ref]


async def test_queue_depths_count_ready_entries(store: RedisStore) -> None:
    await stored(store, "j1")
    await stored(store, "j2")
    await stored(store, "j3", delay_at=time.time() + 60)

    assert await store.queue_depths([TYPE, "other"]) == {TYPE: 2, "other": 0}


# -- timers ----------------------------------------------------------------------------------


async def test_due_timers_are_taken_once_and_dropped(store: RedisStore) -> None:
    now = time.time()
    action = dispatch(TYPE, dispatch_timeout=600.0)
    job, effects = waiting_job(
        "j1", now=now - 100, action=action, result_timeout_s=50.0
    )  # result deadline 50 s ago, dispatch deadline in 500 s
    assert [m for m, _ in effects.timers] == ["result|j1||0", "dispatch|j1|j1.1|1"]
    assert await store.commit(job.evolve(rev=1), effects) is True

    assert await store.take_due_timers(10, 30.0) == ["result|j1||0"]
    assert await store.take_due_timers(10, 30.0) == []

    await store.drop_timer("result|j1||0")
    assert await store.redis.zscore(store.keys.timers, "result|j1||0") is None
    assert await members(store, store.keys.timers) == ["dispatch|j1|j1.1|1"]


# -- client index ----------------------------------------------------------------------------


async def test_client_jobs_are_listed_newest_first_and_forgotten(store: RedisStore) -> None:
    start = time.time()
    for i, (job_id, client) in enumerate([("j1", "shop"), ("j2", "crm"), ("j3", "shop")]):
        job, effects = waiting_job(job_id, now=start + i, client=client)
        assert await store.commit(job.evolve(rev=1), effects, index=True) is True
    job, effects = waiting_job("unindexed", now=start + 9, client="shop")
    assert await store.commit(job.evolve(rev=1), effects) is True

    assert await store.client_jobs("shop", 0, 10) == ["j3", "j1"]
    assert await store.client_jobs("shop", 1, 1) == ["j1"]
    assert await store.client_jobs("crm", 0, 10) == ["j2"]
    assert await store.client_jobs("nobody", 0, 10) == []

    await store.forget_client_jobs("shop", ["j3", "not-there"])
    await store.forget_client_jobs("shop", [])
    assert await store.client_jobs("shop", 0, 10) == ["j1"]


# -- workers ---------------------------------------------------------------------------------


async def test_a_registered_worker_heartbeats_and_is_live(store: RedisStore) -> None:
    info = {"worker_id": "w1", "skills": [TYPE], "capacity": 2}
    before = time.time()

    await store.register_worker("w1", info)

    assert await store.heartbeat("w1", None) == (True, [], False)
    live = await store.live_workers(60.0)
    assert [i for i, _ in live] == [info | {"draining": False}]
    assert before - 0.01 <= live[0][1] <= time.time() + 0.01
    seen = await store.workers_seen(["w1", "ghost"])
    assert seen[0] == live[0][1] and seen[1] is None
    assert await store.workers_seen([]) == []


async def test_a_heartbeat_with_info_updates_it(store: RedisStore) -> None:
    await store.register_worker("w1", {"load": 0})

    assert await store.heartbeat("w1", {"load": 2}) == (True, [], False)

    assert await store.worker_info("w1") == {"load": 2}
    assert await store.worker_info("ghost") is None


async def test_a_heartbeat_in_the_same_millisecond_still_knows_the_worker(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = types.SimpleNamespace(time=lambda: 1_700_000_000.0)
    monkeypatch.setattr(redis_store, "time", frozen)
    await store.register_worker("w1", {})

    assert await store.heartbeat("w1", None) == (True, [], False)
    assert await store.heartbeat("w1", None) == (True, [], False)


async def test_a_heartbeat_of_an_unknown_worker_is_refused(store: RedisStore) -> None:
    assert await store.heartbeat("ghost", None) == (False, [], False)
    assert await store.live_workers(60.0) == []


async def test_a_silent_worker_drops_out_after_its_ttl(store: RedisStore) -> None:
    await store.register_worker("w1", {"n": 1})
    assert len(await store.live_workers(60.0)) == 1

    async def gone() -> bool:
        return await store.live_workers(0.05) == []

    await wait_for(gone, timeout=5, what="worker w1 to drop out")

    assert await store.worker_info("w1") is None
    assert await store.workers_seen(["w1"]) == [None]
    assert await store.heartbeat("w1", None) == (False, [], False)


# -- cancels ---------------------------------------------------------------------------------


async def test_a_cancel_without_a_listener_waits_for_the_heartbeat(store: RedisStore) -> None:
    await store.register_worker("w1", {})

    reached = await store.send_cancels([("w1", "j1", "j1.1", 2)], ttl_s=60)

    assert reached == 0
    expected = {"type": "cancel_task", "job_id": "j1", "task_id": "j1.1", "attempt": 2}
    assert await store.heartbeat("w1", None) == (True, [expected], False)
    assert await store.heartbeat("w1", None) == (True, [], False)


async def test_a_cancel_reaches_a_subscribed_worker(store: RedisStore) -> None:
    pubsub = await command_subscription(store, "w1")
    try:
        cancels = [("w1", "j1", "j1.1", 1), ("w2", "j2", "j2.1", 3)]
        reached = await store.send_cancels(cancels, ttl_s=60)

        assert reached == 1
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2.0)
        assert message is not None
        assert orjson.loads(message["data"]) == {
            "type": "cancel_task",
            "job_id": "j1",
            "task_id": "j1.1",
            "attempt": 1,
        }
    finally:
        await pubsub.aclose()
    ttl = await store.redis.ttl(store.keys.worker_cancels("w2"))
    assert 0 < ttl <= 60


async def test_send_cancels_of_nothing_is_zero(store: RedisStore) -> None:
    assert await store.send_cancels([], ttl_s=60) == 0


# -- scripts ---------------------------------------------------------------------------------


async def test_commit_and_claim_reload_flushed_scripts(store: RedisStore) -> None:
    # SCRIPT FLUSH is fine here: the store's server is private to the tests (a redis-server
    # they started, or the embedded fakeredis one); it does not touch any data.
    first = await stored(store, "j1")
    await store.redis.script_flush()
    assert await store.redis.script_exists(store.scripts.apply.sha) == [False]

    second = await stored(store, "j2")

    assert await store.load("j2") == second
    assert await store.redis.script_exists(store.scripts.apply.sha) == [True]
    await store.redis.script_flush()
    assert await store.claim(TYPE, "w1", 30.0) == payload_of(first)
    moved = first.evolve(rev=3, state="work")
    await store.redis.script_flush()
    assert await store.commit(moved, Effects()) is True
    assert await store.load("j1") == moved
