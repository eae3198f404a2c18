"""`RetryLater(after=...)` from a real worker: the next attempt waits that long, capped."""

from __future__ import annotations

import aiohttp
import pytest

from tests.e2e3.conftest import Client, E3Cluster, of_type

SLACK_S = 0.6
"""Upper bound on the time from a delay's end to the next lease (sweeps of 0.1 s, polls)."""


@pytest.mark.parametrize(
    ("after", "cap", "expected"),
    [
        pytest.param(2, 60, 2.0, id="as-asked"),
        pytest.param(100, 1, 1.0, id="capped-by-max_interval_s"),
    ],
)
async def test_retry_later_after_delays_the_next_attempt_and_the_history_says_why(
    e3: E3Cluster, http: aiohttp.ClientSession, after: float, cap: float, expected: float
) -> None:
    orch = await e3.orchestrator()
    e3.worker(orch, "w-deferred")
    api = Client(http, orch)

    job_id = await api.start("deferring", {"after": after, "cap": cap})
    job = await api.wait_ended(job_id)

    assert job["status"] == "finished", job
    assert job["result"] == {"attempt": 2}
    history = await api.history(job_id)
    leased = of_type(history, "task_leased")
    [result, _] = of_type(history, "task_result")
    [requeued] = of_type(history, "task_requeued")
    assert result["error"]["retry_after_s"] == after
    assert (requeued["attempt"], requeued["reason"]) == (2, "RETRY_LATER")
    assert requeued["delay_s"] == expected
    assert requeued["message"] == "rate limited upstream"
    assert [e["attempt"] for e in leased] == [1, 2]
    gap = leased[1]["at"] - requeued["at"]
    # Not leased before the delay (the backoff alone would be 0.1 s), nor much after.
    assert expected <= gap < expected + SLACK_S, gap
