"""The worker the e2e3 tests run as real processes (``tests.e2e3.workers:worker``).

Tasks leave marker files in ``$E2E_MARKS`` so tests can see what ran where without sleeping;
the fan-out branches meet at a barrier in the test's Redis (``$E2E3_REDIS_URL``).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from tests.e2e3.shared import key
from worker_sdk import RetryLater, TaskContext, TaskError, TaskResult, Worker

worker = Worker()
MARKS = Path(os.environ.get("E2E_MARKS", "."))
BARRIER_S = 15


def _mark(name: str) -> None:
    MARKS.mkdir(parents=True, exist_ok=True)
    (MARKS / name).write_text(os.environ.get("WORKER_ID", ""))


@worker.task("echo")
async def echo(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    return {"echo": params, "worker": ctx.worker_id}


@worker.task("branch")
async def branch(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    """Waits until all ``n`` branches of the job run at once, so their results arrive together."""
    redis = aioredis.Redis.from_url(os.environ["E2E3_REDIS_URL"])
    prefix = os.environ["E2E3_PREFIX"]
    started, gate = key(prefix, "started", ctx.job_id), key(prefix, "gate", ctx.job_id)
    try:
        if await redis.incr(started) == params["n"]:
            await redis.rpush(gate, *["go"] * params["n"])
        together = await redis.blpop([gate], timeout=BARRIER_S) is not None
    finally:
        await redis.aclose()
    return {"i": params["i"], "worker": ctx.worker_id, "together": together}


@worker.task("sleep")
async def sleep(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    """Runs for ``params["s"]`` seconds; marks its start and its cancellation."""
    _mark(f"started-{ctx.task_id}-{ctx.attempt}")
    try:
        await asyncio.sleep(float(params["s"]))
    except asyncio.CancelledError:
        _mark(f"cancelled-{ctx.task_id}")
        raise
    return {"slept": params["s"]}


@worker.task("flaky")
async def flaky(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    """Fails (retryable) on its first ``fail_times`` attempts."""
    if ctx.attempt <= params["fail_times"]:
        raise TaskError("FLAKY", f"attempt {ctx.attempt} fails", retryable=True)
    return {"attempt": ctx.attempt}


@worker.task("deferred")
async def deferred(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    """Asks, on its first attempt, to be run again ``params["after"]`` seconds later."""
    if ctx.attempt == 1:
        raise RetryLater(after=params["after"], reason="rate limited upstream")
    return {"attempt": ctx.attempt}


@worker.task("shaky")
async def shaky(params: dict[str, Any], ctx: TaskContext) -> Any:
    """The first run for a job answers wrongly (``params["mode"]``); later runs answer well."""
    first = MARKS / f"shaky-{ctx.job_id}"
    if not first.exists():
        _mark(first.name)
        if params["mode"] == "status":
            return TaskResult("weird", {"total": 1})
        return {"total": "lots"}
    return {"total": 42}


@worker.task("gate")
async def gate(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    """Waits until the test pushes to the job's ``open`` list in Redis."""
    redis = aioredis.Redis.from_url(os.environ["E2E3_REDIS_URL"])
    try:
        opened = key(os.environ["E2E3_PREFIX"], "open", ctx.job_id)
        passed = await redis.blpop([opened], timeout=BARRIER_S) is not None
    finally:
        await redis.aclose()
    return {"passed": passed}


@worker.task("stepper")
async def stepper(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    """Reports half done, then waits at the gate (the test's push) before it finishes."""
    await ctx.progress(0.5, "step 1 of 2", {"rows": 10})
    return await gate(params, ctx)


@worker.task("double")
async def double(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    return {"doubled": params["x"] * 2}
