"""A fan-out that ends (``fail_fast``, a cancel, ``result_timeout``) while its branches are being
picked up hands out no branch after its end, cancels every branch it had handed out (a
worker whose cancel came before the branch declines it unrun), and records nothing after its
terminal event.

Real processes: one orchestrator, four workers of five slots each, so all 20 branches of a job
are claimed at once while the job ends. Each mode is run many times because the bug is a race
between the job's final write and claims in flight.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.e2e3.conftest import Client, e3_cluster
from tests.helpers import wait_for

# One cluster for the module: starting five processes costs more than the runs themselves.
pytestmark = pytest.mark.asyncio(loop_scope="module")

BRANCHES = 20
WORKERS, CAPACITY = 4, 5
RUNS = 12
"""Runs per mode. Before the fix, 3 to 7 runs in 12 of each mode showed the bug, and the branches
it left running held the workers, so that every later fail_fast run went wrong too."""
CANCEL_WAIT_S = 10.0
"""How long a branch leased before the end may take to report its cancel."""
TERMINAL_EVENTS = {"job_finished", "job_failed", "job_cancelled", "job_quarantined"}


@dataclass
class Held:
    """The module's cluster: where to reach its orchestrator, where its workers leave marks."""

    api: Client
    marks: Path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def held(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Held]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    tmp = tmp_path_factory.mktemp("fanout_end")
    async with e3_cluster(redis_url, prefix, tmp) as e3, aiohttp.ClientSession() as http:
        orch = await e3.orchestrator(blueprints="tests.e2e3.stop_blueprints")
        for i in range(WORKERS):
            e3.cluster.worker(
                orch, f"w{i}", CAPACITY, target="tests.e2e3.stop_workers:worker", **e3.env
            )
        api = Client(http, orch)

        async def all_registered() -> bool:
            status, workers = await api.get("/api/v1/workers")
            return status == 200 and len(workers) == WORKERS

        await wait_for(all_registered, 20, f"{WORKERS} workers to register")
        yield Held(api, e3.marks)


def marked(marks: Path, kind: str, task_id: str) -> bool:
    return (marks / f"{kind}-{task_id}").exists()


def problems_of(job_id: str, history: list[dict[str, Any]], job: Any, marks: Path) -> list[str]:
    """What this job's history and the workers' markers show against the rules; [] if none."""
    found: list[str] = []
    ends = [i for i, e in enumerate(history) if e["type"] in TERMINAL_EVENTS]
    if not ends:
        return [f"{job_id}: no terminal event in {[e['type'] for e in history]}"]
    end = ends[0]
    after = history[end + 1 :]
    if after:
        found.append(f"{job_id}: events after {history[end]['type']}: {after}")
    leased_before = {e["task_id"] for e in history[:end] if e["type"] == "task_leased"}
    # A branch that reported, or the one whose failure ended the job, is over on its worker;
    # every other branch leased before the end that started there must be cancelled. One
    # that never started is fine: its cancel overtook its delivery (a branch a result's
    # answer brings, claimed while that result ended the job), and the SDK declines it.
    failed_branch = ((job.get("error") or {}).get("details") or {}).get("branch")
    reported = {e["task_id"] for e in history if e["type"] == "task_result"} | {failed_branch}
    for task_id in sorted(leased_before - reported):
        if marked(marks, "started", task_id) and not marked(marks, "cancelled", task_id):
            found.append(f"{job_id}: {task_id} was leased before the end but not cancelled")
    for started in marks.glob(f"started-{job_id}.*"):
        task_id = started.name.removeprefix("started-")
        if task_id not in leased_before:
            found.append(f"{job_id}: {task_id} ran on a worker without a lease before the end")
    for finished in marks.glob(f"finished-{job_id}.*"):
        found.append(f"{job_id}: {finished.name.removeprefix('finished-')} ran to its end")
    return found


async def settle(held: Held, job_id: str) -> list[str]:
    """Once the job ended: wait (bounded) until every branch it had leased reported its cancel,
    then return the problems the job shows."""
    job = await held.api.wait_ended(job_id, timeout=20)
    deadline = time.monotonic() + CANCEL_WAIT_S

    async def cancels_arrived() -> tuple[list[str]] | None:
        found = problems_of(job_id, await held.api.history(job_id), job, held.marks)
        missing = [p for p in found if "not cancelled" in p]
        # a tuple: truthy even when no problem was found
        return (found,) if not missing or time.monotonic() > deadline else None

    settled: tuple[list[str]] = await wait_for(
        cancels_arrived, CANCEL_WAIT_S + 5, f"cancels of job {job_id}"
    )
    return settled[0]


async def run_many(held: Held, start: Callable[[int], Awaitable[str]]) -> dict[str, list[str]]:
    """Runs ``start`` RUNS times, one job after the other; the problems of each bad job."""
    jobs: list[str] = []
    bad: dict[str, list[str]] = {}
    for run in range(RUNS):
        job_id = await start(run)
        jobs.append(job_id)
        found = await settle(held, job_id)
        if found:
            bad[job_id] = found
    # Late leases of earlier jobs would show here, after every later run had its time.
    for job_id in jobs:
        job = await held.api.job(job_id)
        found = problems_of(job_id, await held.api.history(job_id), job, held.marks)
        if found:
            bad[job_id] = sorted(set(bad.get(job_id, [])) | set(found))
    return bad


async def test_a_fan_out_failing_fast_hands_out_nothing_after_its_end(held: Held) -> None:
    async def start(run: int) -> str:
        # The failing branch is among the first picked up, while the others are being claimed.
        return await held.api.start("held_fanout", {"n": BRANCHES, "fail": run % 5})

    bad = await run_many(held, start)

    assert not bad, f"{len(bad)} of {RUNS} runs went wrong: {bad}"


async def test_a_fan_out_cancelled_mid_pickup_hands_out_nothing_after_its_end(held: Held) -> None:
    async def start(run: int) -> str:
        job_id = await held.api.start("held_fanout", {"n": BRANCHES})
        # Cancel once a few branches were leased (more each run), while the rest are claimed.
        wanted = 1 + run % 6

        async def leased() -> bool:
            history = await held.api.history(job_id)
            return len([e for e in history if e["type"] == "task_leased"]) >= wanted

        await wait_for(leased, 20, f"{wanted} branches of {job_id} leased")
        await held.api.cancel(job_id)
        return job_id

    bad = await run_many(held, start)

    assert not bad, f"{len(bad)} of {RUNS} runs went wrong: {bad}"


async def test_a_fan_out_timing_out_hands_out_nothing_after_its_end(held: Held) -> None:
    async def start(run: int) -> str:
        # Due within the first sweeps (every 0.1 s), while the branches are being claimed.
        timeout = 0.02 + 0.02 * (run % 5)
        return await held.api.start("held_fanout", {"n": BRANCHES}, result_timeout=timeout)

    bad = await run_many(held, start)

    assert not bad, f"{len(bad)} of {RUNS} runs went wrong: {bad}"
