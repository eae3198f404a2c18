"""Retries seen in the history: attempts and growing backoff; quarantine, then ``retry``."""

from __future__ import annotations

import aiohttp
import pytest

from tests.e2e3.blueprints import COEFFICIENT, INITIAL_S
from tests.e2e3.conftest import Client, E3Cluster, of_type, states

FAILS = 3
SLACK_S = 0.6
"""Upper bound on the time from a backoff's end to the next lease (sweeps of 0.1 s, polls)."""


async def test_a_retry_policy_shows_attempts_and_growing_backoff_in_the_history(
    e3: E3Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await e3.orchestrator()
    e3.worker(orch, "w-flaky")
    api = Client(http, orch)

    job_id = await api.start("retrying", {"fail_times": FAILS})
    job = await api.wait_ended(job_id)

    assert job["status"] == "finished", job
    assert job["result"] == {"attempt": FAILS + 1}
    history = await api.history(job_id)
    leased = of_type(history, "task_leased")
    requeued = of_type(history, "task_requeued")
    results = of_type(history, "task_result")
    assert [e["attempt"] for e in leased] == [1, 2, 3, 4]
    assert [e["attempt"] for e in results] == [1, 2, 3, 4]
    assert [e["status"] for e in results] == ["failure"] * FAILS + ["success"]
    assert [e["attempt"] for e in requeued] == [2, 3, 4]
    assert {e["reason"] for e in requeued} == {"FLAKY"}

    expected = [round(INITIAL_S * COEFFICIENT**n, 3) for n in range(FAILS)]
    assert [e["delay_s"] for e in requeued] == expected == [0.2, 0.4, 0.8]
    gaps = [nxt["at"] - req["at"] for req, nxt in zip(requeued, leased[1:], strict=True)]
    for gap, delay in zip(gaps, expected, strict=True):
        assert delay <= gap < delay + SLACK_S, (gaps, expected)
    assert gaps == sorted(gaps)
    # each requeue follows the failed result it retries
    for result, req in zip(results, requeued, strict=False):
        assert result["id"] < req["id"] and result["attempt"] + 1 == req["attempt"]


@pytest.mark.parametrize(
    ("mode", "code", "reason"),
    [
        pytest.param(
            "status", "UNMAPPED_TASK_STATUS", "reported status 'weird'", id="unmapped-status"
        ),
        pytest.param(
            "schema",
            "RESULT_SCHEMA_VIOLATION",
            "data.total: expected integer, got str",
            id="schema-violation",
        ),
    ],
)
async def test_a_quarantined_job_runs_again_on_retry_and_finishes(
    e3: E3Cluster, http: aiohttp.ClientSession, mode: str, code: str, reason: str
) -> None:
    orch = await e3.orchestrator()
    e3.worker(orch, "w-shaky")
    api = Client(http, orch)

    job_id = await api.start("strict", {"mode": mode})
    job = await api.wait_ended(job_id)
    assert (job["status"], job["error"]["code"]) == ("quarantined", code), job
    assert reason in job["error"]["message"]
    history = await api.history(job_id)
    assert history[-1]["type"] == "job_quarantined"
    assert history[-1]["error"]["code"] == code

    status, body = await api.post(f"/api/v1/jobs/{job_id}/retry")
    assert status == 200, body
    assert body["job_id"] == job_id
    job = await api.wait_status(job_id, "finished")
    assert job["result"] == {"total": 42}
    assert job["error"] is None

    history = await api.history(job_id)
    (retried,) = of_type(history, "job_retried")
    assert retried["state"] == "compute"
    assert retried["previous_error"]["code"] == code
    assert states(history) == ["compute", "compute", "totalled"]
    tasks = [e["task_id"] for e in of_type(history, "task_queued")]
    assert len(tasks) == 2 and tasks[0] != tasks[1]  # a new task, not the quarantined one
    assert [e["type"] for e in history].index("job_retried") > [e["type"] for e in history].index(
        "job_quarantined"
    )

    status, body = await api.post(f"/api/v1/jobs/{job_id}/retry")
    assert (status, body["error"]["code"]) == (409, "JOB_NOT_RETRYABLE")
