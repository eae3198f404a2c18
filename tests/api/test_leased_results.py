"""A result applied from the job as this process's claim left it (``storage/leased.py``):
no read of the job when nothing else wrote it, and never a wrong write when something did.

Two apps on one Redis and one prefix stand for two orchestrator processes: the worker's
task was claimed through ``here``, and ``there`` changes the job meanwhile, so ``here`` still
keeps the job as its lease left it.
"""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator import Actions, Blueprint
from orchestrator.appkeys import RUNNER
from orchestrator.shell import leases
from tests.api.conftest import Api, MakeApi, assert_error, client_headers, worker_headers


async def claimed(make_api: MakeApi) -> tuple[Api, Api, str, dict[str, Any]]:
    here, there = await make_api(), await make_api()
    job_id = await here.create({"name": "Ada"})
    await here.register("w1")
    task = await here.take("w1")
    assert len(here.store.leased) == 1  # the job as its lease left it
    return here, there, job_id, task


def count_reads(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    load = api.store.load

    async def counted(job_id: str) -> Any:
        reads.append(job_id)
        return await load(job_id)

    monkeypatch.setattr(api.store, "load", counted)
    return reads


async def test_the_result_of_a_task_this_process_leased_reads_no_job(
    make_api: MakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, _, job_id, task = await claimed(make_api)
    reads = count_reads(here, monkeypatch)

    resp = await here.result(task, "w1", data={"greeting": "hi"})

    assert resp.status == 200, await resp.text()
    assert (await resp.json())["status"] == "result_accepted_success"
    assert reads == []
    assert (await here.wait_status(job_id, "finished"))["result"] is not None
    # the same result again reads the job, and gets the same answer
    del reads[:]
    again = await here.result(task, "w1", data={"greeting": "hi"})
    assert (await again.json())["status"] == "result_accepted_success"
    assert reads == [job_id]


async def test_a_cancel_elsewhere_wins_over_the_kept_job(make_api: MakeApi) -> None:
    here, there, job_id, task = await claimed(make_api)
    assert (await there.cancel(job_id)).status == 200

    resp = await here.result(task, "w1", data={"greeting": "hi"})

    await assert_error(resp, 409, "TASK_NOT_HELD")
    job = await here.job(job_id)
    assert job["status"] == "cancelled"
    types = [e["type"] for e in (await history(here, job_id))]
    assert "task_result" not in types and types[-1] == "job_cancelled", types


async def test_progress_recorded_elsewhere_is_kept_by_the_result(make_api: MakeApi) -> None:
    here, there, job_id, task = await claimed(make_api)
    report = {**{k: task[k] for k in ("job_id", "task_id", "attempt")}, "worker_id": "w1"}
    resp = await there.client.post(
        "/_worker/tasks/progress",
        json={**report, "fraction": 0.5},
        headers=worker_headers(),
    )
    assert resp.status == 200, await resp.text()

    resp = await here.result(task, "w1", data={"greeting": "hi"})

    assert resp.status == 200, await resp.text()
    await here.wait_status(job_id, "finished")
    types = [e["type"] for e in await history(here, job_id)]
    assert types.index("task_progress") < types.index("task_result"), types


async def test_a_lease_lost_elsewhere_refuses_the_late_result(make_api: MakeApi) -> None:
    here, there, job_id, task = await claimed(make_api)
    # the worker restarted: its lease is lost at once, and the sweep of `there` expires it
    await there.register("w1")
    ref = f"{job_id}|{task['task_id']}|{task['attempt']}|0"
    await leases.expire_lease(there.app[RUNNER], "greet", ref)

    resp = await here.result(task, "w1", data={"greeting": "hi"})

    await assert_error(resp, 409, "TASK_NOT_HELD")
    job = await here.job(job_id)
    assert job["status"] != "finished", job
    types = [e["type"] for e in await history(here, job_id)]
    assert "task_result" not in types and "result_dropped" in types, types


parent = Blueprint("parent", api_version="v1", api_endpoint="parent")
kid = Blueprint("kid", api_version="v1", api_endpoint="kid")


@parent.handler(start=True)
async def first(actions: Actions) -> None:
    actions.dispatch_task("greet", {}, transitions={"success": "spawn"})


@parent.handler()
async def spawn(actions: Actions) -> None:
    actions.run_blueprint("kid", transitions={"finished": "done"})


@parent.handler(end=True)
async def done() -> None:
    return None


@kid.handler(start=True)
async def wait_for_work(actions: Actions) -> None:
    actions.dispatch_task("kid_work", {}, transitions={"success": "kid_done"})


@kid.handler(end=True)
async def kid_done() -> None:
    return None


async def test_a_child_started_from_a_kept_job_names_the_rev_its_parent_reaches(
    make_api: MakeApi,
) -> None:
    # The child's link names the rev of the parent write that starts it (shell/timers.py
    # tells a parent mid-step by it): started from a job kept since the lease while another
    # process wrote the parent, it would name an old rev.
    here, there = await make_api(blueprints=[parent, kid]), await make_api(blueprints=[parent, kid])
    job_id = await here.create({}, endpoint="v1/parent")
    await here.register("w1")
    task = await here.take("w1")
    assert len(here.store.leased) == 1
    report = {**{k: task[k] for k in ("job_id", "task_id", "attempt")}, "worker_id": "w1"}
    for fraction in (0.25, 0.5):
        resp = await there.client.post(
            "/_worker/tasks/progress",
            json={**report, "fraction": fraction},
            headers=worker_headers(),
        )
        assert resp.status == 200, await resp.text()

    resp = await here.result(task, "w1", data={})

    assert resp.status == 200, await resp.text()
    stored = await here.store.load(job_id)
    assert stored is not None and stored.child is not None
    child = await here.store.load(stored.child["job_id"])
    assert child is not None and child.parent is not None
    assert child.parent["rev"] == stored.rev


async def history(api: Api, job_id: str) -> list[dict[str, Any]]:
    resp = await api.client.get(f"/api/v1/jobs/{job_id}/history", headers=client_headers())
    assert resp.status == 200, await resp.text()
    return list(await resp.json())
