"""Blueprints and the worker of the chaos soak (``bench/chaos.py``, ``test_chaos.py``).

Four shapes of job: one task, a chain of three, a fan-out of three joined by an aggregator,
and a parent running a child job. Every task is ``chaos_step``, whose handler appends
``job_id task_id attempt worker`` to ``$E2E_MARKS/<worker id>.marks`` before it answers: the
side effect the audit compares with each job's history.
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path
from typing import Any

from orchestrator import Actions, Blueprint, RetryPolicy
from worker_sdk import TaskContext, Worker

# Kills lose leases and a Redis restart can outlast one: many quick attempts, so the soak
# measures lost and doubled work, not jobs that ran out of retries.
RETRIES = RetryPolicy(max_attempts=20, initial_interval_s=0.05, max_interval_s=0.5, jitter=0)
CHAIN = ("first", "second", "third")
BRANCHES = 3


one = Blueprint("chaos_one", api_version="v1", api_endpoint="chaos_one")


@one.handler(start=True)
async def run_one(initial_data: dict[str, Any], actions: Actions) -> None:
    # each state names its target itself: the blueprint's checks read it from this source
    actions.dispatch_task(
        "chaos_step", initial_data, transitions={"success": "one_done"}, retry_policy=RETRIES
    )


@one.handler(end=True)
async def one_done(results: dict[str, Any]) -> dict[str, Any]:
    return {"ran": results["run_one"]}


chain = Blueprint("chaos_chain", api_version="v1", api_endpoint="chaos_chain")


@chain.handler(start=True)
async def first(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task(
        "chaos_step", initial_data, transitions={"success": "second"}, retry_policy=RETRIES
    )


@chain.handler()
async def second(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task(
        "chaos_step", initial_data, transitions={"success": "third"}, retry_policy=RETRIES
    )


@chain.handler()
async def third(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task(
        "chaos_step", initial_data, transitions={"success": "chain_done"}, retry_policy=RETRIES
    )


@chain.handler(end=True)
async def chain_done(results: dict[str, Any]) -> dict[str, Any]:
    return {"ran": [results[state] for state in CHAIN]}


fan = Blueprint("chaos_fan", api_version="v1", api_endpoint="chaos_fan")


@fan.handler(start=True)
async def spread(initial_data: dict[str, Any], actions: Actions) -> None:
    branch = {"task_type": "chaos_step", "params": initial_data, "retry_policy": RETRIES}
    actions.dispatch_parallel([branch] * BRANCHES, aggregate_into="join")


@fan.handler(end=True)
async def join(parallel_results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"ran": [r["data"] for r in parallel_results]}


parent = Blueprint("chaos_parent", api_version="v1", api_endpoint="chaos_parent")


@parent.handler(start=True)
async def adopt(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.run_blueprint("chaos_one", initial_data, transitions={"finished": "raised"})


@parent.handler(end=True)
async def raised(results: dict[str, Any]) -> dict[str, Any]:
    return {"child": results["adopt"]["result"]}


worker = Worker()
MARKS = Path(os.environ.get("E2E_MARKS", "."))


def _mark(ctx: TaskContext) -> None:
    line = f"{ctx.job_id} {ctx.task_id} {ctx.attempt} {ctx.worker_id}\n".encode()
    # One O_APPEND write a line: lines of concurrent tasks never interleave, and a kill
    # mid-write leaves at most one line without its newline, which the audit skips.
    fd = os.open(MARKS / f"{ctx.worker_id}.marks", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


@worker.task("chaos_step")
async def chaos_step(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    _mark(ctx)
    # A task runs for a while, so that kills find tasks in flight.
    await asyncio.sleep(random.uniform(0.0, float(params.get("run_s", 0.1))))
    return {"task": ctx.task_id, "attempt": ctx.attempt, "worker": ctx.worker_id}
