"""The last branch of a fan-out recorded, its aggregator not run: the worker's resend runs it.

A branch's result is recorded by a script of its own; the process that saw the count reach
zero then runs the aggregator in a second step. If that process loses Redis (restarting) or
dies in between, the worker is answered an error (or nothing) and sends its result again, and
the resend is a repeat of a recorded branch. It used to be answered as one and change nothing,
leaving the join to a timer 30 s later: the chaos soak (``bench/chaos.py``) found fan-outs that
ended 30 s after their last branch across a Redis restart.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from orchestrator import Actions, Blueprint
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.config import Settings
from orchestrator.engine.model import Job, JobStatus
from orchestrator.engine.new_job import NewJob
from orchestrator.shell.jobs import JobRunner
from orchestrator.shell.results import submit_result
from orchestrator.storage.redis_store import RedisStore

fan = Blueprint("join_fan")


@fan.handler(start=True)
async def spread(actions: Actions) -> None:
    actions.dispatch_parallel([{"task_type": "join_work"}] * 2, aggregate_into="joined")


@fan.handler(end=True)
async def joined(parallel_results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"joined": len(parallel_results)}


def _fail_the_next_load_but_one(store: RedisStore) -> None:
    """The read of the branch's result goes through; the aggregator's read finds Redis gone."""
    load = store.load
    calls: list[str] = []

    async def flaky(job_id: str) -> Job | None:
        calls.append(job_id)
        if len(calls) == 2:
            raise RedisConnectionError("Error 111 connecting to Redis. Connection refused.")
        return await load(job_id)

    store.load = flaky  # type: ignore[method-assign]


async def test_a_repeat_of_the_last_branch_runs_the_aggregator_that_did_not_run(
    store: RedisStore,
) -> None:
    runner = JobRunner(store, BlueprintRegistry([fan]), Settings(), origin="t")
    job, _ = await runner.create(fan, "client", NewJob({}))
    claimed = (await store.claim_many("join_work", "w1", 30.0, 2)).payloads
    bodies = [
        {
            "job_id": job.id,
            "task_id": orjson.loads(p)["task_id"],
            "worker_id": "w1",
            "attempt": 1,
            "status": "success",
            "data": {},
        }
        for p in claimed
    ]
    assert len(bodies) == 2
    assert await submit_result(runner, "w1", bodies[0]) == "result_accepted_success"
    _fail_the_next_load_but_one(store)
    with pytest.raises(RedisConnectionError):
        await submit_result(runner, "w1", bodies[1])
    waiting = await store.load(job.id)
    assert waiting is not None and waiting.status == JobStatus.WAITING_FOR_PARALLEL
    assert not waiting.branches, "the last branch's result is recorded"

    assert await submit_result(runner, "w1", bodies[1]) == "result_accepted_success"

    ended = await store.load(job.id)
    assert ended is not None and ended.status == JobStatus.FINISHED, ended
    assert ended.result == {"joined": 2}
    assert [e["type"] for e in ended.history].count("parallel_joined") == 1
