"""A queue entry popped but never leased (its process died in between) goes back to its queue
at the lease's deadline, and this process's own parked long-polls hear of it: the restore's
PUBLISH carries this process's origin, which its own bus handler leaves to the local wake-up.
Without one, a poll parked on a queue known empty (``dispatch/claim_gate.py``) would wait for
the periodic re-check."""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.config import Settings
from orchestrator.engine.new_job import NewJob
from orchestrator.shell import leases
from orchestrator.shell.jobs import JobRunner
from orchestrator.storage.redis_store import RedisStore

restored = Blueprint("restored")


@restored.handler(start=True)
async def ask(actions: Actions) -> None:
    actions.dispatch_task("restored_work", {}, transitions={"success": "done"})


@restored.handler(end=True)
async def done() -> dict[str, Any]:
    return {}


async def test_an_entry_restored_by_the_lease_sweep_wakes_this_process(store: RedisStore) -> None:
    woken: list[str] = []
    runner = JobRunner(
        store, BlueprintRegistry([restored]), Settings(), origin="t", wake=woken.append
    )
    job, _ = await runner.create(restored, "client", NewJob({}))
    assert job.task is not None
    ref = job.task.ref
    # claim.lua's half without lease.lua's: out of the queue, in the leases, the job unchanged
    await store.redis.zrem(store.keys.ready("restored_work"), ref)
    await store.redis.zadd(store.keys.leases("restored_work"), {ref: 0})
    woken.clear()

    await leases.expire_lease(runner, "restored_work", ref)

    assert woken == ["restored_work"]
    assert await store.claim("restored_work", "w-1", 30.0) is not None
