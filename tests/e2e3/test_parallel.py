"""Fan-out of 50 branches whose results reach two orchestrator processes at once."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.e2e3.conftest import Client, E3Cluster, of_type, states

BRANCHES = 50


async def test_fan_in_from_two_processes_runs_the_aggregator_once(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    first, second = await asyncio.gather(e3.orchestrator(), e3.orchestrator())
    # Each worker holds 25 branches: the barrier in the task only opens when all 50 run,
    # so every result is sent at the same moment, half to each process.
    e3.worker(first, "w-first", capacity=BRANCHES // 2)
    e3.worker(second, "w-second", capacity=BRANCHES // 2)
    api = Client(http, first)

    job_id = await api.start("fanout", {"n": BRANCHES})
    job = await api.wait_ended(job_id, timeout=30)

    assert job["status"] == "finished", job
    assert await e3.counter("join", job_id) == 1
    result = job["result"]
    assert result["runs"] == 1
    assert result["values"] == list(range(BRANCHES))  # every branch, in dispatch order
    assert result["statuses"] == ["success"]
    assert result["all_waited"] is True
    assert result["workers"] == ["w-first"] * 25 + ["w-second"] * 25

    history = await Client(http, second).history(job_id)
    assert [e["branches"] for e in of_type(history, "parallel_joined")] == [BRANCHES]
    reported = of_type(history, "task_result")
    assert len(reported) == BRANCHES
    assert {e["task_id"] for e in reported} == {
        e["task_id"] for e in of_type(history, "task_queued")
    }
    assert states(history) == ["spread", "join"]
    assert [e["type"] for e in history][-3:] == ["parallel_joined", "state_entered", "job_finished"]
    assert [e["id"] for e in history] == list(range(1, len(history) + 1))
