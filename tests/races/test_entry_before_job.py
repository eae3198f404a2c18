"""No queue entry is claimable before its job names the delivery (one Redis, and embedded).

A commit used to write its queue entries ahead of the job write, in the same pipeline but as
separate commands: a worker's claim could run between the two, find the job not yet at the
revision that wants the attempt, and drop the entry as stale; the branch was lost and the job
waited forever. These tests stop a commit's pipeline right before the job write and claim as
fast as possible there, which is that moment, frozen.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from orchestrator.engine import machine
from orchestrator.engine.actions import Actions, DispatchParallel
from orchestrator.storage.redis_store import RedisStore
from tests.builders import STATES, new_job

TYPE = "shard"
BRANCHES = 20
ROUNDS = 5


def stop_before_job_writes(store: RedisStore, between: Callable[[], Awaitable[None]]) -> None:
    """Every later round trip holding a job write (``apply.lua``'s EVALSHA; a commit's, sent
    by the store's ``Wire``) runs in two parts: the commands before it, then ``between()``,
    then the rest."""
    run = store.wire.run

    async def split_run(commands: Sequence[Sequence[Any]]) -> list[Any]:
        apply = store.scripts.apply.sha
        cut = next((i for i, args in enumerate(commands) if args[:2] == ("EVALSHA", apply)), None)
        if cut is None:
            return await run(commands)
        head = await run(commands[:cut]) if cut else []
        await between()
        return [*head, *await run(commands[cut:])]

    store.wire.run = split_run  # type: ignore[method-assign]


async def fan_out(store: RedisStore, job_id: str) -> None:
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


async def claim_all(store: RedisStore, limit: int) -> int:
    claimed = 0
    while claimed < limit and await store.claim(TYPE, "w1", 30.0) is not None:
        claimed += 1
    return claimed


async def test_a_fan_out_loses_no_branch_to_a_claim_racing_its_write(store: RedisStore) -> None:
    rng = random.Random(20261201)
    raced = 0
    limit = 0

    async def claim_in_between() -> None:
        nonlocal raced
        raced += await claim_all(store, limit)

    stop_before_job_writes(store, claim_in_between)
    for round_ in range(ROUNDS):
        raced, limit = 0, rng.randint(1, BRANCHES)
        await fan_out(store, f"j{round_}")

        after = await claim_all(store, BRANCHES + 1)

        assert raced + after == BRANCHES
        assert await store.redis.zcard(store.keys.leases(TYPE)) == BRANCHES * (round_ + 1)
        job = await store.load(f"j{round_}")
        assert job is not None
        assert sorted(t.status for t in job.branches.values()) == ["leased"] * BRANCHES
