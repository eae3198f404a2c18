"""Each timeout fires with its own error code and history event."""

from __future__ import annotations

import signal
from typing import Any

import aiohttp

from tests.e2e3.conftest import Client, E3Cluster, of_type, states
from tests.helpers import wait_for


async def _failed_with(api: Client, job_id: str, code: str, kind: str) -> list[dict[str, Any]]:
    """The job failed with ``code``, its history has one ``timeout`` event of ``kind``, and the
    orchestrator counted it under that metric label."""
    job = await api.wait_ended(job_id)
    assert (job["status"], job["error"]["code"]) == ("failed", code), job
    history = await api.history(job_id)
    assert history[-1]["type"] == "job_failed"
    assert history[-1]["error"]["code"] == code
    assert states(history) == ["wait_on"]
    assert [e["kind"] for e in of_type(history, "timeout")] == [kind]

    async def counted() -> str | None:  # metrics are updated right after the transition
        async with api.session.get(f"{api.base}/_public/metrics") as r:
            text = await r.text()
        return text if f'orchestrator_timeouts_total{{kind="{kind}"}} 1.0' in text else None

    metrics = await wait_for(counted, 5, f"the {kind} timeout in the metrics")
    for each in ("dispatch", "execution", "heartbeat", "result"):
        count = "1.0" if each == kind else "0.0"
        assert f'orchestrator_timeouts_total{{kind="{each}"}} {count}' in metrics
    return history


async def test_dispatch_timeout_when_no_worker_takes_the_task(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await e3.orchestrator()
    api = Client(http, orch)
    job_id = await api.start("timeouts", {"task_type": "nobody"}, dispatch_timeout=0.5)

    history = await _failed_with(api, job_id, "DISPATCH_TIMEOUT", "dispatch")
    assert of_type(history, "task_leased") == []


async def test_execution_timeout_when_an_attempt_runs_too_long(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await e3.orchestrator()
    e3.worker(orch, "w-slow")
    api = Client(http, orch)
    job_id = await api.start(
        "timeouts", {"task_type": "sleep", "params": {"s": 30}, "timeout": 0.5}
    )

    history = await _failed_with(api, job_id, "EXECUTION_TIMEOUT", "execution")
    (leased,) = of_type(history, "task_leased")
    assert leased["worker"] == "w-slow"
    # the worker is told to stop the attempt that ran out of time
    cancelled = e3.marks / f"cancelled-{leased['task_id']}"
    await wait_for(cancelled.exists, 10, "the worker to cancel the task")


async def test_heartbeat_timeout_when_the_worker_dies(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await e3.orchestrator()
    doomed = e3.worker(orch, "w-doomed")
    api = Client(http, orch)
    job_id = await api.start("timeouts", {"task_type": "sleep", "params": {"s": 30}})

    async def started() -> str | None:
        task = (await api.job(job_id)).get("task")
        if task and (e3.marks / f"started-{task['task_id']}-1").exists():
            return str(task["task_id"])
        return None

    await wait_for(started, 20, "the task to start on the worker")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()

    history = await _failed_with(api, job_id, "HEARTBEAT_TIMEOUT", "heartbeat")
    assert [e["worker"] for e in of_type(history, "lease_expired")] == ["w-doomed"]


async def test_result_timeout_counts_from_the_job_creation(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await e3.orchestrator()
    e3.worker(orch, "w-slow")
    api = Client(http, orch)
    job_id = await api.start(
        "timeouts", {"task_type": "sleep", "params": {"s": 30}}, result_timeout=1.0
    )

    history = await _failed_with(api, job_id, "RESULT_TIMEOUT", "result")
    created, failed = history[0], history[-1]
    assert created["type"] == "job_created"
    assert 1.0 <= failed["at"] - created["at"] < 3.0
