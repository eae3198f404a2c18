"""``ctx.progress``: reports reach the orchestrator naming their attempt, at most two a second
per task, and the newest one always arrives."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from worker_sdk import TaskContext, Worker
from worker_sdk.progress import INTERVAL_S
from worker_sdk.testing import make_context

from .conftest import StartWorker, wait_for
from .fake_orchestrator import FakeOrchestrator

REPORTS = 50


async def test_a_burst_of_reports_is_thinned_and_the_last_one_arrives(
    fake: FakeOrchestrator, make_worker: Callable[..., Worker], start_worker: StartWorker
) -> None:
    worker = make_worker()
    finish = asyncio.Event()

    @worker.task("steps")
    async def steps(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        for n in range(1, REPORTS + 1):
            await ctx.progress(n / REPORTS, f"step {n} of {REPORTS}", {"n": n})
        await finish.wait()  # the trailing report goes out while the task still runs
        return {}

    await start_worker(worker)
    task_id = fake.enqueue("steps", attempt=3, max_attempts=3)
    await wait_for(
        lambda: any(body.get("data") == {"n": REPORTS} for _, body in fake.progress),
        what="the last report",
    )
    finish.set()
    await wait_for(lambda: task_id in fake.results, what="the result")

    bodies = [body for _, body in fake.progress]
    # the first goes at once, the burst collapses into the newest: two reports, not fifty
    assert [b["data"]["n"] for b in bodies] == [1, REPORTS]
    assert bodies[-1] == {
        "job_id": bodies[-1]["job_id"],
        "task_id": task_id,
        "worker_id": "w-1",
        "attempt": 3,
        "fraction": 1.0,
        "message": f"step {REPORTS} of {REPORTS}",
        "data": {"n": REPORTS},
    }
    times = [at for at, _ in fake.progress]
    assert times[1] - times[0] >= INTERVAL_S * 0.9, times


async def test_outside_a_worker_reports_are_kept_on_the_context() -> None:
    ctx = make_context("steps", {})
    await ctx.progress(0.5, "half")
    assert ctx.progress_reports == [{"fraction": 0.5, "message": "half", "data": None}]


@pytest.mark.parametrize("fraction", [-0.1, 1.5, float("nan"), True])
async def test_a_bad_fraction_is_refused_where_it_is_reported(fraction: Any) -> None:
    with pytest.raises(ValueError, match="fraction"):
        await make_context("steps", {}).progress(fraction)
