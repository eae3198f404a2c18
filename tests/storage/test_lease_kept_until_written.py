"""A step whose write did not land leaves the lease of the delivery it would have ended.

After a Redis restart the server has forgotten the scripts: the first ``EVALSHA`` of each
answers NOSCRIPT, and the store loads them and sends the step again. A process killed in
between must not have removed the lease entry already, or a job would wait forever for a
delivery that nothing tracks any more (its worker dead too: no result, no lease to expire).
The chaos soak found it: a fan-out stuck in ``waiting_for_parallel`` with its three branches
leased to a dead worker and no lease entry left.

The kill is played by ``scripts.load`` raising, right after the NOSCRIPT answer.
"""

from __future__ import annotations

import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from orchestrator.engine import machine, parallel
from orchestrator.engine.events import event_without_id, task_result_fields
from orchestrator.engine.model import Job, Task
from orchestrator.storage.redis_store import RedisStore
from orchestrator.storage.scripts import Scripts
from tests.storage import stored as shared
from tests.storage.test_ended_fan_out import TYPE as FAN_TYPE
from tests.storage.test_ended_fan_out import fanned_out

TYPE = "echo"


async def lease_refs(store: RedisStore, task_type: str) -> list[str]:
    return [m.decode() for m in await store.redis.zrange(store.keys.leases(task_type), 0, -1)]


def killed_after_noscript(monkeypatch: pytest.MonkeyPatch) -> None:
    async def dies(_scripts: Scripts, _redis: object) -> None:
        raise RedisConnectionError("the process was killed here")

    monkeypatch.setattr(Scripts, "load", dies)


async def leased(store: RedisStore, job_id: str, task_type: str, worker_id: str) -> Task:
    assert await store.claim(task_type, worker_id, 30.0) is not None
    job = await store.load(job_id)
    assert job is not None
    tasks = [job.task] if job.task is not None else list(job.branches.values())
    (task,) = [t for t in tasks if t.worker == worker_id]
    return task


async def test_a_branch_result_that_did_not_run_leaves_the_lease(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fanned_out(store, "j1")
    branch = await leased(store, "j1", FAN_TYPE, "w1")
    assert await lease_refs(store, FAN_TYPE) == [branch.ref]
    now = time.time()
    outcome = parallel.outcome(branch, "success", {"n": 1}, None, now)
    event = event_without_id("task_result", now, **task_result_fields(branch, "success", None))

    await store.redis.script_flush()  # Redis restarted: its scripts are gone
    killed_after_noscript(monkeypatch)
    with pytest.raises(RedisConnectionError):
        await store.branch_result(branch, "w1", outcome, event)

    assert await lease_refs(store, FAN_TYPE) == [branch.ref]
    job = await store.load("j1")
    assert job is not None and job.branches[branch.task_id].worker == "w1"  # still out


async def test_a_recorded_branch_result_removes_the_lease(store: RedisStore) -> None:
    await fanned_out(store, "j1")
    branch = await leased(store, "j1", FAN_TYPE, "w1")
    now = time.time()
    outcome = parallel.outcome(branch, "success", {"n": 1}, None, now)
    event = event_without_id("task_result", now, **task_result_fields(branch, "success", None))

    assert await store.branch_result(branch, "w1", outcome, event) == 2
    await store.released.flush()

    assert await lease_refs(store, FAN_TYPE) == []


# One Redis and embedded only: on Cluster the lease lives in another slot than the job and
# goes with the write whatever it does (docs/architecture.md, "Leases").
@pytest.mark.parametrize("store", ["redis", "embedded"], indirect=True)
@pytest.mark.parametrize("limited", [False, True], ids=["unlimited", "max_in_flight"])
async def test_a_give_back_that_did_not_land_leaves_the_lease(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch, limited: bool
) -> None:
    """A task given back queues the same attempt again, so its lease entry goes with the
    write (not in a later batch); on one Redis the script removes it, only if it wins."""
    if limited:
        store.limited = frozenset({TYPE})
    await shared.stored(store, "j1", task_type=TYPE)
    task = await leased(store, "j1", TYPE, "w1")
    job = await store.load("j1")
    assert job is not None
    again, effects = machine.released(job, task, time.time())

    await store.redis.script_flush()
    killed_after_noscript(monkeypatch)
    with pytest.raises(RedisConnectionError):
        await store.commit(again.evolve(rev=job.rev + 1), effects)

    assert await lease_refs(store, TYPE) == [task.ref]
    assert await store.load("j1") == job  # nothing written


async def test_a_give_back_that_lands_moves_the_entry_from_leases_to_ready(
    store: RedisStore,
) -> None:
    await shared.stored(store, "j1", task_type=TYPE)
    task = await leased(store, "j1", TYPE, "w1")
    job: Job | None = await store.load("j1")
    assert job is not None
    again, effects = machine.released(job, task, time.time())

    assert await store.commit(again.evolve(rev=job.rev + 1), effects) is True

    assert await lease_refs(store, TYPE) == []
    assert await store.claim(TYPE, "w2", 30.0) is not None  # queued again
