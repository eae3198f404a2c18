"""``ctx.progress`` from a real worker: in ``GET /api/v1/jobs/{id}``, live on the SSE stream,
and drawn by ``orchestrator jobs watch``."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import aiohttp
import orjson

from tests.e2e.conftest import CLIENT_TOKEN, WORKER_TOKEN
from tests.e2e3.conftest import Client, E3Cluster, of_type
from tests.e2e3.test_events import sse
from tests.helpers import child_env, wait_for


async def test_progress_shows_in_the_job_and_on_the_event_stream(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    first, second = await asyncio.gather(e3.orchestrator(), e3.orchestrator())
    e3.worker(first, "w-steps")  # reports go to one process, the stream comes from the other
    api, watcher = Client(http, first), Client(http, second)
    job_id = await api.start("stepping", {})
    url = f"{second.url}/api/v1/jobs/{job_id}/events"

    async with http.get(url, headers=watcher.headers) as r:
        assert r.status == 200
        seen: list[dict[str, Any]] = []
        async for event in sse(r):
            seen.append(event)
            if event["event"] == "task_progress":
                break
        progress = seen[-1]["data"]
        assert (progress["fraction"], progress["message"], progress["data"]) == (
            0.5,
            "step 1 of 2",
            {"rows": 10},
        )
        assert (progress["attempt"], progress["worker"]) == (1, "w-steps")

        # the task still runs (at the gate): the job shows where it got
        job = await watcher.job(job_id)
        assert job["task"]["status"] == "leased"
        shown = job["task"]["progress"]
        assert (shown["fraction"], shown["message"], shown["data"]) == (
            0.5,
            "step 1 of 2",
            {"rows": 10},
        )
        assert shown["at"].endswith("Z")

        await e3.push("open", job_id)
        finished = await api.wait_ended(job_id)
    assert (finished["status"], finished["result"]) == ("finished", {"passed": True}), finished
    # stored in the history, as one event per report the orchestrator kept
    [recorded] = of_type(await api.history(job_id), "task_progress")
    assert recorded["id"] == seen[-1]["id"]


async def test_jobs_watch_draws_the_progress_bar(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await e3.orchestrator()
    e3.worker(orch, "w-steps")
    api = Client(http, orch)
    job_id = await api.start("stepping", {})
    watch = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "orchestrator",
        "jobs",
        "watch",
        job_id,
        "--url",
        orch.url,
        "--token",
        CLIENT_TOKEN,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(),
    )
    assert watch.stderr is not None
    try:
        lines: list[str] = []
        async with asyncio.timeout(30):  # a deadline on the condition, not a sleep
            while not any(line.startswith("progress ") for line in lines):
                raw = await watch.stderr.readline()
                assert raw, f"watch ended before drawing progress: {lines}"
                lines.append(raw.decode().rstrip())
        # drawn while the task still runs: the gate is still closed
        assert "progress [##########----------]  50% step 1 of 2" in lines
        await e3.push("open", job_id)
        out, _ = await asyncio.wait_for(watch.communicate(), timeout=30)
    finally:
        if watch.returncode is None:
            watch.kill()
            await watch.wait()
    assert watch.returncode == 0
    assert orjson.loads(out)["status"] == "finished"


async def test_a_report_of_an_attempt_not_running_is_refused(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await e3.orchestrator()
    e3.worker(orch, "w-steps")
    api = Client(http, orch)
    job_id = await api.start("stepping", {})

    async def reported() -> bool:
        return bool(((await api.job(job_id)).get("task") or {}).get("progress"))

    await wait_for(reported, what="the worker's first report")
    task_id = (await api.job(job_id))["task"]["task_id"]
    url = f"{orch.url}/_worker/tasks/progress"
    headers = {"X-Worker-Token": WORKER_TOKEN}
    ids = {"job_id": job_id, "task_id": task_id, "worker_id": "w-steps"}

    async with http.post(url, json={**ids, "attempt": 2, "fraction": 0.9}, headers=headers) as r:
        assert r.status == 409, await r.text()
        assert (await r.json())["error"]["code"] == "TASK_NOT_HELD"
    async with http.post(url, json={**ids, "attempt": 1, "fraction": 1.5}, headers=headers) as r:
        assert r.status == 400, await r.text()
        assert (await r.json())["error"]["details"]["field"] == "fraction"
    # neither changed what the job shows
    assert (await api.job(job_id))["task"]["progress"]["fraction"] == 0.5
    assert len(of_type(await api.history(job_id), "task_progress")) == 1
    await e3.push("open", job_id)
    assert (await api.wait_ended(job_id))["status"] == "finished"
