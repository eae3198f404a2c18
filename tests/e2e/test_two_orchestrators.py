"""Two orchestrator processes on one Redis: any process serves any request."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.e2e.conftest import WORKER_TOKEN, Api, Cluster
from tests.helpers import wait_for


async def test_jobs_created_on_one_are_worked_through_the_other(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    first = await cluster.orchestrator()
    second = await cluster.orchestrator()
    cluster.worker(second, "w-second", capacity=4)
    on_first, on_second = Api(http, first), Api(http, second)

    job_ids = await asyncio.gather(*(on_first.create("echo", {"n": n}) for n in range(20)))
    for n, job_id in enumerate(job_ids):
        job = await on_second.wait_status(job_id, "finished")
        assert job["result"] == {"echo": {"n": n}, "worker": "w-second"}
        assert job == await on_first.job(job_id)  # both processes see the same, final state


async def test_cancel_sent_to_one_reaches_a_worker_connected_to_the_other(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    first = await cluster.orchestrator()
    second = await cluster.orchestrator()
    cluster.worker(second, "w-remote")
    api = Api(http, first)
    job_id = await api.create("slow", {"hang_s": 60})

    async def started() -> str | None:
        task = (await api.job(job_id)).get("task")
        if task and (cluster.marks / f"started-{task['task_id']}-1").exists():
            return str(task["task_id"])
        return None

    task_id = await wait_for(started, 20, "the task to start on the worker")
    assert (await api.cancel(job_id))["status"] == "cancellation_request_sent"
    await wait_for(lambda: (cluster.marks / f"cancelled-{task_id}").exists(), 10, "cancel")
    assert (await api.job(job_id))["status"] == "cancelled"


async def test_waits_on_the_creating_process_hear_ends_made_by_the_other(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    # Each job is created and waited for on ``first`` and ended on ``second``, often before
    # ``first`` has finished handling the create: every wait must still hear its job's end
    # (a wait that missed it would run its whole 60 s, past this test's deadline).
    first = await cluster.orchestrator()
    second = await cluster.orchestrator()
    cluster.worker(second, "w-second", capacity=8)
    api = Api(http, first)

    async def create_and_wait(n: int) -> dict[str, object]:
        job_id = await api.create("echo", {"n": n})
        url = f"{api.base}/api/v1/jobs/{job_id}?wait=60"
        async with http.get(url, headers=api.headers) as r:
            assert r.status == 200, await r.text()
            body: dict[str, object] = await r.json()
            return body

    for _ in range(3):
        jobs = await asyncio.wait_for(asyncio.gather(*(create_and_wait(n) for n in range(40))), 30)
        assert [job["status"] for job in jobs] == ["finished"] * 40
    # Answered from the job the end carried, or from ``first``'s memory of it: the job as
    # stored, as ``second`` reads it, and as ``first`` answers it again later.
    on_second = Api(http, second)
    for job in jobs:
        job_id = str(job["job_id"])
        assert job == await on_second.job(job_id) == await api.job(job_id)


async def test_polls_parked_on_a_queue_known_empty_get_a_task_queued_by_the_other(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    # A poll answered 204 tells ``first`` the echo queue is empty: the next polls park there
    # without a claim of their own, and only the wake-up from ``second`` can bring them a task.
    first = await cluster.orchestrator()
    second = await cluster.orchestrator()
    headers = {"X-Worker-Token": WORKER_TOKEN}
    for i in range(3):
        body = {"worker_id": f"w-idle-{i}", "supported_skills": ["echo"]}
        async with http.post(
            f"{first.url}/_worker/workers/register", json=body, headers=headers
        ) as r:
            assert r.status == 200, await r.text()

    async def poll(i: int, timeout: float) -> tuple[int, bytes]:
        url = f"{first.url}/_worker/workers/w-idle-{i}/tasks/next?timeout={timeout:g}"
        async with http.get(url, headers=headers) as r:
            return r.status, await r.read()

    assert (await poll(0, 0))[0] == 204

    async def parked() -> bool:
        async with http.get(f"{first.url}/_public/status") as r:
            return bool((await r.json())["parked_polls"] == 2)

    polls = [asyncio.create_task(poll(i, 30)) for i in (1, 2)]
    await wait_for(parked, 10, "two polls parked on the first process")
    job_id = await Api(http, second).create("echo", {"n": 1})

    done, waiting = await asyncio.wait(polls, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    for task in waiting:
        task.cancel()
    assert [(status, job_id.encode() in body) for status, body in (t.result() for t in done)] == [
        (200, True)
    ]
