"""Draining real worker processes: by the API and by SIGTERM. A drained worker takes nothing
new, finishes what it can within its grace period, hands back the rest for another worker at
once, deregisters and exits 0; the workers list and the dashboard show it draining meanwhile."""

from __future__ import annotations

import signal
from typing import Any

import aiohttp

from tests.e2e.conftest import OPS_TOKEN, Api, Cluster
from tests.helpers import wait_for


async def _get(api: Api, path: str) -> Any:
    async with api.session.get(f"{api.base}{path}", headers=api.headers) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def _draining(api: Api) -> tuple[dict[str, bool], int]:
    """(worker id → draining) from the workers list, and the dashboard's draining count."""
    workers = {w["worker_id"]: w["draining"] for w in await _get(api, "/api/v1/workers")}
    return workers, (await _get(api, "/api/v1/dashboard"))["workers"]["draining"]


async def _leased_by(api: Api, job_ids: list[str], worker: str) -> bool:
    tasks = [(await api.job(j)).get("task") or {} for j in job_ids]
    return all(t.get("status") == "leased" and t.get("worker_id") == worker for t in tasks)


async def _task_id(api: Api, job_id: str) -> str:
    return str((await api.job(job_id))["task"]["task_id"])


async def _running(cluster: Cluster, api: Api, job_ids: list[str], worker: str) -> None:
    """Until ``worker`` runs the jobs' tasks: leased is not enough, as a worker told to stop
    while the answer handing it a task is on its way drops it (till the lease runs out)."""
    await wait_for(lambda: _leased_by(api, job_ids, worker), 20, f"{worker} to get the tasks")
    for job_id in job_ids:
        mark = cluster.marks / f"held-{await _task_id(api, job_id)}-{worker}"
        await wait_for(mark.exists, 10, f"{worker} to start {job_id}")


def _held(cluster: Cluster, jobs: dict[str, str]) -> set[tuple[str, str]]:
    """(job name, worker) of every ``hold`` run so far, from the marks the tasks leave."""
    runs = set()
    for mark in cluster.marks.glob("held-*"):
        task_id, _, worker = mark.name.removeprefix("held-").rpartition("-w-")
        (name,) = [n for n, job_id in jobs.items() if task_id.startswith(job_id)]
        runs.add((name, f"w-{worker}"))
    return runs


async def test_drained_workers_take_nothing_new_finish_or_hand_back_and_leave(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await cluster.orchestrator()
    api = Api(http, orch)
    a = cluster.worker(orch, "w-a", capacity=3, WORKER_SHUTDOWN_GRACE_S="1.5")
    kept = await api.create("hold", {"hold_on": ["w-a"]})
    cut = await api.create("hold", {"hold_on": ["w-a"]})
    await _running(cluster, api, [kept, cut], "w-a")

    # Drained by the API while it holds two tasks and has a slot free.
    for _ in range(2):  # a second drain is the same
        async with http.post(
            f"{orch.url}/api/v1/workers/w-a/drain", headers={"X-Client-Token": OPS_TOKEN}
        ) as r:
            assert r.status == 202, await r.text()
    assert await _draining(api) == ({"w-a": True}, 1)
    a_log = cluster.tmp / "worker-w-a.log"
    await wait_for(lambda: "drained by the orchestrator" in a_log.read_text(), 10, "w-a told")
    late = await api.create("hold", {"hold_on": ["w-a"]})  # w-a's free slot must not take it
    b = cluster.worker(orch, "w-b", capacity=2)

    (cluster.marks / f"go-{await _task_id(api, kept)}").touch()
    assert (await api.wait_status(kept, "finished"))["result"] == {"worker": "w-a", "attempt": 1}
    assert (await api.wait_status(late, "finished"))["result"]["worker"] == "w-b"
    # Held past w-a's grace: handed back, same attempt, and done by w-b.
    assert (await api.wait_status(cut, "finished"))["result"] == {"worker": "w-b", "attempt": 1}
    history = await _get(api, f"/api/v1/jobs/{cut}/history")
    assert [e["worker"] for e in history if e["type"] == "task_released"] == ["w-a"]
    assert not any(e["type"] == "lease_expired" for e in history)
    assert a.wait(10) == 0
    assert (await _draining(api))[0] == {"w-b": False}  # gone at once, not after its TTL

    # SIGTERM while w-b holds a task: it shows as draining, takes nothing new, finishes it.
    slow = await api.create("hold", {"hold_on": ["w-b"]})
    await _running(cluster, api, [slow], "w-b")
    b.send_signal(signal.SIGTERM)

    async def announced() -> bool:
        return await _draining(api) == ({"w-b": True}, 1)

    await wait_for(announced, 10, "w-b shown draining")
    after = await api.create("hold", {})  # w-b has a free slot; it must not take it
    (cluster.marks / f"go-{await _task_id(api, slow)}").touch()
    assert (await api.wait_status(slow, "finished"))["result"]["worker"] == "w-b"
    assert b.wait(10) == 0
    assert await _draining(api) == ({}, 0)
    assert (await api.job(after))["status"] == "waiting_for_worker"
    jobs = {"kept": kept, "cut": cut, "late": late, "slow": slow, "after": after}
    assert _held(cluster, jobs) == {
        ("kept", "w-a"),
        ("cut", "w-a"),
        ("cut", "w-b"),
        ("late", "w-b"),
        ("slow", "w-b"),
    }
