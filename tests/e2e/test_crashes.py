"""Crashes: a worker SIGKILLed mid-task, an orchestrator stopped and restarted, an
orchestrator killed with results in flight on a worker's socket."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import aiohttp

from tests.e2e.conftest import WORKER_TOKEN, Api, Cluster, result_posts, takes_results
from tests.helpers import wait_for


async def _leased_by(api: Api, job_id: str, worker: str) -> bool:
    task = (await api.job(job_id)).get("task")
    return bool(task and task["status"] == "leased" and task["worker_id"] == worker)


async def test_killed_worker_task_is_redelivered_and_job_finishes_once(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await cluster.orchestrator()
    doomed = cluster.worker(orch, "w-doomed")
    api = Api(http, orch)
    job_id = await api.create("slow", {"hang_s": 60})
    await wait_for(lambda: _leased_by(api, job_id, "w-doomed"), 20, "lease by w-doomed")
    task_id = (await api.job(job_id))["task"]["task_id"]
    await wait_for(lambda: (cluster.marks / f"started-{task_id}-1").exists(), 20, "task start")

    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    cluster.worker(orch, "w-rescuer")

    job = await api.wait_status(job_id, "finished", timeout=30)
    assert job["result"] == {"worker": "w-rescuer", "attempt": 2}
    assert (cluster.marks / f"started-{task_id}-2").read_text() == "w-rescuer"
    async with http.get(
        f"{orch.url}/api/v1/jobs/{job_id}", headers=api.headers
    ) as r:  # finished exactly once: the end state was entered once and stays
        assert (await r.json())["status"] == "finished"
    assert not (cluster.marks / f"started-{task_id}-3").exists()


async def test_sigterm_answers_parked_polls_and_restart_resumes_jobs(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await cluster.orchestrator()
    api = Api(http, orch)
    headers = {"X-Worker-Token": WORKER_TOKEN}
    async with http.post(
        f"{orch.url}/_worker/workers/register",
        json={"worker_id": "parked", "supported_skills": ["nothing"]},
        headers=headers,
    ) as r:
        assert r.status == 200
    job_id = await api.create("echo", {"n": 1})  # no echo worker yet: it waits in its queue

    async def poll() -> int:
        url = f"{orch.url}/_worker/workers/parked/tasks/next?timeout=10"
        async with http.get(url, headers=headers) as r:
            return r.status

    parked = asyncio.create_task(poll())

    async def is_parked() -> bool:
        async with http.get(f"{orch.url}/_public/status") as r:
            return (await r.json())["parked_polls"] == 1

    await wait_for(is_parked, 10, "the long-poll to park")
    started = time.monotonic()
    orch.proc.send_signal(signal.SIGTERM)
    assert await parked == 204
    await asyncio.to_thread(orch.proc.wait, 5)
    assert time.monotonic() - started < 2.0, "orchestrator took too long to stop"
    assert orch.proc.returncode == 0

    restarted = await cluster.orchestrator()
    api = Api(http, restarted)
    assert (await api.job(job_id))["status"] == "waiting_for_worker"
    cluster.worker(restarted, "w-after")
    job = await api.wait_status(job_id, "finished")
    assert job["result"]["echo"] == {"n": 1}


async def test_orchestrator_killed_with_results_in_flight_on_the_websocket(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    """Results sent on the worker's socket, never answered: the orchestrator is frozen when
    they go and killed before it reads them. The worker sends them again over HTTP to the
    restarted process, and every job finishes, once."""
    orch = await cluster.orchestrator()
    port = int(orch.url.rsplit(":", 1)[1])
    # DEBUG: the log shows each frame the worker sends (websockets' own log)
    cluster.worker(orch, "w-busy", capacity=6, WORKER_LOG_LEVEL="DEBUG")
    await takes_results(cluster, "w-busy")
    api = Api(http, orch)
    jobs = [await api.create("hold", {"hold_on": ["w-busy"]}) for _ in range(6)]
    for job_id in jobs:
        await wait_for(lambda j=job_id: _leased_by(api, j, "w-busy"), 20, "the lease")
    tasks = [(await api.job(job_id))["task"]["task_id"] for job_id in jobs]
    for task_id in tasks:
        held = cluster.marks / f"held-{task_id}-w-busy"
        await wait_for(held.exists, 20, f"task {task_id} to run")

    orch.proc.send_signal(signal.SIGSTOP)
    for task_id in tasks:
        (cluster.marks / f"go-{task_id}").touch()
    log = cluster.tmp / "worker-w-busy.log"

    def sent() -> bool:  # websockets logs a frame's start, not the task id
        return sum(RESULT_FRAME in line for line in _lines(log)) >= len(tasks)

    await wait_for(sent, 20, "the worker to send every result on its socket")
    orch.proc.send_signal(signal.SIGKILL)
    orch.proc.wait()

    restarted = await cluster.orchestrator(port=port)
    api = Api(http, restarted)
    for job_id in jobs:
        job = await api.wait_status(job_id, "finished", timeout=40)
        assert job["result"]["worker"] == "w-busy"
        async with http.get(
            f"{restarted.url}/api/v1/jobs/{job_id}/history", headers=api.headers
        ) as r:
            history = await r.json()
        assert [e["type"] for e in history].count("task_result") == 1, history
        ends = [e for e in history if e["type"] == "state_entered" and e["state"] == "held"]
        assert len(ends) == 1, history
    resent = [line for line in _lines(log) if "goes over HTTP: the WebSocket closed" in line]
    assert len(resent) == len(tasks), "\n".join(resent)
    assert result_posts(restarted), "the results in flight were not sent again over HTTP"


RESULT_FRAME = '> TEXT \'{"type":"result"'


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []
