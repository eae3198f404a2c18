"""Metric values after a known run through the real app: every count exact."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, MakeApi, client_headers
from tests.metrics.conftest import Scrape, scrape_when

RETRYABLE = {"code": "FLAKY", "message": "try again", "retryable": True}


async def finish_greetings(api: Api, worker: str, n: int) -> None:
    for _ in range(n):
        job_id = await api.create({"name": "Ada"})
        task = await api.take(worker)
        assert task["job_id"] == job_id
        resp = await api.result(task, worker, data={"greeting": "Hello, Ada"})
        assert resp.status == 200, await resp.text()
        await api.wait_status(job_id, "finished")


async def known_run(api: Api) -> None:
    """3 greetings finish, 1 fails without retry, 1 flaky task is retried once and then
    finishes, 1 greeting's task is never taken (dispatch timeout)."""
    await api.register("w1", skills=("greet", "flaky"))
    await finish_greetings(api, "w1", 3)

    failing = await api.create({"name": "Bob"})
    task = await api.take("w1")
    resp = await api.result(task, "w1", status="failure", error={"code": "NO", "message": "no"})
    assert resp.status == 200, await resp.text()
    await api.wait_status(failing, "failed")

    flaky = await api.create({"n": 1}, endpoint="v1/flaky")
    first = await api.take("w1")
    resp = await api.result(first, "w1", status="failure", error=RETRYABLE)
    assert (await resp.json())["status"] == "result_accepted_retrying"
    second = await api.take("w1", timeout=2.0)
    assert second["attempt"] == 2
    resp = await api.result(second, "w1", data={"value": 1})
    assert resp.status == 200, await resp.text()
    await api.wait_status(flaky, "finished")

    late = await api.create({"name": "Cy"}, dispatch_timeout=0.2)
    job = await api.wait_status(late, "failed")
    assert job["error"]["code"] == "DISPATCH_TIMEOUT", job


def all_ended(m: Scrape) -> bool:
    finished = sum(m.series("orchestrator_jobs_finished_total").values())
    return finished == 6 and not any(m.series("orchestrator_jobs").values())


async def test_counters_and_histograms_after_a_known_run(api: Api) -> None:
    await known_run(api)

    m = await scrape_when(api, all_ended, "the 6 jobs to be counted as ended")

    assert m.series("orchestrator_jobs_created_total") == {
        frozenset({("blueprint", "greeting")}): 5.0,
        frozenset({("blueprint", "flaky")}): 1.0,
    }
    assert m.series("orchestrator_jobs_finished_total") == {
        frozenset({("blueprint", "greeting"), ("status", "finished")}): 3.0,
        frozenset({("blueprint", "greeting"), ("status", "failed")}): 2.0,
        frozenset({("blueprint", "flaky"), ("status", "finished")}): 1.0,
    }
    assert m.count("orchestrator_job_duration_seconds_count", blueprint="greeting") == 5
    assert m.count("orchestrator_job_duration_seconds_count", blueprint="flaky") == 1
    # the dispatch-timed-out task was never leased, so it has no queue wait
    assert m.count("orchestrator_task_queue_wait_seconds_count", task_type="greet") == 4
    assert m.count("orchestrator_task_queue_wait_seconds_count", task_type="flaky") == 2
    assert m.count("orchestrator_task_execution_seconds_count", task_type="greet") == 4
    assert m.count("orchestrator_task_execution_seconds_count", task_type="flaky") == 2
    assert m.series("orchestrator_task_retries_total") == {frozenset({("task_type", "flaky")}): 1.0}
    assert m.series("orchestrator_lease_expiries_total") == {}
    assert m.count("orchestrator_timeouts_total", kind="dispatch") == 1
    assert m.count("orchestrator_timeouts_total", kind="result") == 0
    assert m.count("orchestrator_timeouts_total", kind="heartbeat") == 0
    # every job ended: no live job is counted, and no task waits
    assert not any(m.series("orchestrator_jobs").values())
    assert m.value("orchestrator_queue_depth", task_type="greet") == 0
    assert m.value("orchestrator_workers_active") == 1
    assert m.value("orchestrator_workers_busy") == 0


async def test_a_lost_lease_counts_as_expiry_retry_and_heartbeat_timeout(
    make_api: MakeApi,
) -> None:
    api = await make_api(poll_timeout_s=5.0)
    await api.register("w1", skills=("flaky",))
    job_id = await api.create({"n": 2}, endpoint="v1/flaky")
    first = await api.take("w1")
    # w1 neither heartbeats nor answers: its 1 s lease runs out and the task comes back.
    second = await api.take("w1", timeout=5.0)
    assert (second["task_id"], second["attempt"]) == (first["task_id"], 2)
    resp = await api.result(second, "w1", data={"value": 2})
    assert resp.status == 200, await resp.text()
    await api.wait_status(job_id, "finished")

    def counted(m: Scrape) -> bool:
        ended = m.count("orchestrator_jobs_finished_total", blueprint="flaky", status="finished")
        return ended == 1 and m.count("orchestrator_lease_expiries_total", task_type="flaky") == 1

    m = await scrape_when(api, counted, "the expiry and the end to be counted")

    assert m.count("orchestrator_lease_expiries_total", task_type="flaky") == 1
    assert m.count("orchestrator_task_retries_total", task_type="flaky") == 1
    assert m.count("orchestrator_timeouts_total", kind="heartbeat") == 1
    assert m.count("orchestrator_task_queue_wait_seconds_count", task_type="flaky") == 2
    # only the attempt that ended with a result has an execution time
    assert m.count("orchestrator_task_execution_seconds_count", task_type="flaky") == 1


async def test_dashboard_after_a_known_run_and_k_waiting_jobs(api: Api) -> None:
    await known_run(api)
    await scrape_when(api, all_ended, "the 6 jobs to be counted as ended")
    k = 4
    for _ in range(k):
        await api.create({"name": "Dee"})

    resp = await api.client.get("/api/v1/dashboard", headers=client_headers())
    body: dict[str, Any] = await resp.json()

    assert resp.status == 200, body
    oldest = body.pop("queue_oldest_s")
    per_minute = body.pop("finished_per_minute")
    assert len(per_minute) == 60 and sum(per_minute) == 6, per_minute
    assert oldest["flaky"] is None and 0 <= oldest["greet"] < 60, oldest
    assert body == {
        "jobs": {"greeting": {"waiting_for_worker": k}},
        "queues": {"greet": k, "flaky": 0},
        "unroutable": [],
        "workers": {"active": 1, "busy": 0, "draining": 0},
        "finished": {"last_minute": 6, "last_hour": 6},
        "human_tasks": {"waiting": 0, "overdue": 0, "by_role": {}},
    }
