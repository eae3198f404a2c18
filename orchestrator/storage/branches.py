"""A parallel branch's result, recorded in its own fields of the job hash
(``branch_result.lua``), so that branches reporting at once never contend for the job
document. A part of ``RedisStore`` (a base class), kept apart because it is a concept of its
own.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from redis.exceptions import NoScriptError

from orchestrator.engine.model import Task
from orchestrator.storage import codec
from orchestrator.storage.queues import Queues
from orchestrator.storage.released import ReleasedLeases

_MS = 1000.0


class BranchResults(Queues):
    released: ReleasedLeases
    """Lease entries whose removal waits for a batch (``released.py``)."""

    async def branch_result(
        self, task: Task, worker_id: str, outcome: dict[str, Any], event: dict[str, Any]
    ) -> int:
        """Record a parallel branch's outcome; returns the branches still out, -1 if the
        worker does not hold it. A timer is armed first: should this process die right after
        the last branch, the timer runs the aggregator. The branch's lease entry goes once
        the outcome is recorded, not with it: a script that did not run (NOSCRIPT after a
        Redis restart, then this process killed before it sends it again) must leave the
        lease, the only thing left that brings the branch back should its worker die too."""
        k = self.keys
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(k.timers, {f"aggregate|{task.job_id}||0": int((time.time() + 30) * _MS)})
            pipe.evalsha(
                self.scripts.branch_result.sha,
                1,
                k.job(task.job_id),
                task.task_id,
                str(task.attempt),
                worker_id,
                orjson.dumps(outcome),
                orjson.dumps(event),
                k.changed_channel,
                task.job_id,
                *codec.RESULT_RECORDED,
                *codec.ENDED,
            )
            _, remaining = await pipe.execute(raise_on_error=False)
        if isinstance(remaining, NoScriptError):
            await self.scripts.load(self.redis)
            return await self.branch_result(task, worker_id, outcome, event)
        if isinstance(remaining, Exception):
            raise remaining
        if int(remaining) < 0:
            return -1
        # Over for good: at once where a claim counts the type's leases (max_in_flight) and
        # on Cluster (released.py batches neither), else with the next batch.
        if task.task_type in self.limited or self.cluster:
            await self.drop_lease(task.task_type, task.ref)
        else:
            self.released.add([(self.keys.leases(task.task_type), task.ref)])
        return int(remaining)
