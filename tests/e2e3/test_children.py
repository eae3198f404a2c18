"""A child blueprint: the parent waits, resumes once with the child's result, cancels it."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.e2e3.conftest import Client, E3Cluster, of_type, states
from tests.helpers import wait_for

PARENTS = 10


async def test_a_child_resumes_its_parent_once_with_its_result(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    first, second = await asyncio.gather(e3.orchestrator(), e3.orchestrator())
    e3.worker(second, "w-double", capacity=PARENTS)  # children's results reach the other one
    api = Client(http, first)

    job_ids = await asyncio.gather(*(api.start("parent", {"x": x}) for x in range(PARENTS)))
    for x, job_id in enumerate(job_ids):
        await _resumed_once(e3, api, job_id, x)


async def _resumed_once(e3: E3Cluster, api: Client, job_id: str, x: int) -> None:
    job = await api.wait_ended(job_id)
    assert job["status"] == "finished", job
    parent_history = await api.history(job_id)
    (started,) = of_type(parent_history, "child_started")
    child_id = started["child_id"]
    assert started["blueprint"] == "child"
    assert [(e["child_id"], e["status"]) for e in of_type(parent_history, "child_ended")] == [
        (child_id, "finished")
    ]
    assert job["result"] == {
        "doubled": 2 * x,
        "child": {"status": "finished", "result": {"doubled": 2 * x}, "error": None},
        "runs": 1,
    }
    assert await e3.counter("resumed", job_id) == 1  # the parent's handler ran once
    assert states(parent_history) == ["spawn_child", "resumed"]

    child = await api.job(child_id)
    assert (child["status"], child["parent_job_id"], child["blueprint"]) == (
        "finished",
        job_id,
        "child",
    )
    assert states(await api.history(child_id)) == ["begin", "computed"]


async def test_cancelling_the_parent_cancels_the_child(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await e3.orchestrator()
    api = Client(http, orch)
    job_id = await api.start("parent", {"x": 1, "hold": True})
    parent = await api.wait_status(job_id, "waiting_for_child")
    child_id = parent["child_job_id"]
    await api.wait_status(child_id, "waiting_for_human")

    assert (await api.cancel(job_id))["status"] == "cancellation_request_accepted"

    child = await api.wait_status(child_id, "cancelled", timeout=10)
    assert child["error"]["code"] == "CANCELLED"
    assert of_type(await api.history(child_id), "job_cancelled") != []

    async def timers_done() -> bool:  # the child's end has been told to the parent
        return not [t for t in await e3.timers() if job_id in t or child_id in t]

    await wait_for(timers_done, 10, "the child's timers to fire")
    parent = await api.job(job_id)
    assert parent["status"] == "cancelled"
    parent_history = await api.history(job_id)
    assert [e["type"] for e in parent_history][-1] == "job_cancelled"
    assert of_type(parent_history, "child_ended") == []  # a cancelled parent does not resume
