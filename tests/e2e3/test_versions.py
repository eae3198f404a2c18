"""A job keeps the blueprint version it started on; a changed blueprint fails it clearly."""

from __future__ import annotations

import signal
from typing import Any

import aiohttp

from tests.e2e3.conftest import BLUEPRINTS, Client, E3Cluster, of_type, states

V1 = f"{BLUEPRINTS},tests.e2e3.versions_v1"
V2 = f"{BLUEPRINTS},tests.e2e3.versions_v2"


async def _version(api: Client) -> str:
    status, listed = await api.get("/api/v1/blueprints")
    assert status == 200
    (found,) = [bp["version"] for bp in listed if bp["name"] == "versioned"]
    return str(found)


async def test_a_running_job_fails_with_blueprint_changed_after_a_redeploy(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    old = await e3.orchestrator(V1)
    api = Client(http, old)
    v1 = await _version(api)
    job_id = await api.start("versioned", {})  # no worker yet: the task waits in its queue
    job = await api.wait_status(job_id, "waiting_for_worker")
    assert job["blueprint_version"] == v1

    old.proc.send_signal(signal.SIGTERM)
    assert old.proc.wait(10) == 0
    new = await e3.orchestrator(V2)
    api = Client(http, new)
    v2 = await _version(api)
    assert v2 != v1
    e3.worker(new, "w-echo")

    job = await api.wait_ended(job_id)
    assert (job["status"], job["error"]["code"]) == ("failed", "BLUEPRINT_CHANGED"), job
    assert v1 in job["error"]["message"] and v2 in job["error"]["message"]
    assert job["blueprint_version"] == v1
    assert job["result"] is None
    assert await e3.counter("answered-v1", job_id) == 0  # no handler of either version ran
    assert await e3.counter("answered-v2", job_id) == 0
    history: list[dict[str, Any]] = await api.history(job_id)
    (result,) = of_type(history, "task_result")
    assert (result["worker"], result["status"]) == ("w-echo", "success")
    # v1's own transition (success → answered) was taken, and the job failed there instead
    # of running a handler of another version
    assert [(e["type"], e.get("state")) for e in history[-3:]] == [
        ("task_result", None),
        ("state_entered", "answered"),
        ("job_failed", None),
    ]
    assert history[0]["version"] == v1

    # jobs started after the redeploy run on the new version
    fresh = await api.start("versioned", {})
    job = await api.wait_status(fresh, "finished")
    assert (job["result"], job["blueprint_version"]) == ({"version": 2}, v2)
    assert states(await api.history(fresh)) == ["ask", "answered"]
