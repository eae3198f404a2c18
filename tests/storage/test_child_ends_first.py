"""A child that ends before its parent's commit lands still resumes the parent, once.

The parent's step creates the child, then commits the parent as waiting for it. A child that
finishes at once tells the parent by a timer; when that timer fires between the two writes
the parent is not yet waiting. The timer must then be looked at again, not dropped: dropping
it left the parent waiting for a child that had already ended, for ever.
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.config import Settings
from orchestrator.engine.effects import Effects
from orchestrator.engine.model import Job, JobStatus
from orchestrator.engine.new_job import NewJob
from orchestrator.shell.jobs import JobRunner
from orchestrator.shell.timers import fire_timer
from orchestrator.storage.redis_store import RedisStore

parent = Blueprint("race_parent")
child = Blueprint("race_child")


@parent.handler(start=True)
async def spawn(actions: Actions) -> None:
    actions.run_blueprint("race_child", {"x": 2}, transitions={"finished": "resumed"})


@parent.handler(end=True)
async def resumed(results: dict[str, Any]) -> dict[str, Any]:
    return {"child": results["spawn"]["result"]}


@child.handler(start=True)
async def at_once(actions: Actions) -> None:
    actions.go_to("done")


@child.handler(end=True)
async def done(initial_data: dict[str, Any]) -> dict[str, Any]:
    return {"doubled": 2 * initial_data["x"]}


async def child_timers(store: RedisStore) -> list[str]:
    members = await store.redis.zrange(store.keys.timers, 0, -1)
    return [m.decode() for m in members if m.startswith(b"child|")]


async def test_a_child_ending_before_its_parent_waits_still_resumes_it(
    store: RedisStore,
) -> None:
    runner = JobRunner(store, BlueprintRegistry([parent, child]), Settings(), origin="t")
    fired: list[str] = []
    commit = store.commit

    async def commit_after_the_childs_timer_fired(job: Job, effects: Effects, **kw: Any) -> bool:
        if job.blueprint == "race_parent" and job.status == JobStatus.WAITING_FOR_CHILD:
            # The sweeper of some process takes the child's timer before this write lands.
            for member in await child_timers(store):
                fired.append(member)
                await fire_timer(runner, member)
        return await commit(job, effects, **kw)

    store.commit = commit_after_the_childs_timer_fired  # type: ignore[method-assign]
    job, _ = await runner.create(parent, "client", NewJob({}))
    assert fired, "the child should have ended and armed its timer before the parent's write"
    stored = await store.load(job.id)
    assert stored is not None and stored.status == JobStatus.WAITING_FOR_CHILD

    (member,) = await child_timers(store)  # kept for a second look, not dropped
    await fire_timer(runner, member)

    ended = await store.load(job.id)
    assert ended is not None and ended.status == JobStatus.FINISHED, ended
    assert ended.result == {"child": {"doubled": 4}}
    assert await child_timers(store) == []
