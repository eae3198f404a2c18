"""A guarded state picks its handler from the job's data; each branch is taken."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.e2e3.conftest import Client, E3Cluster, states


@pytest.mark.parametrize(
    ("initial_data", "branch"),
    [
        pytest.param({"amount": 5000}, "big", id="task-result-over-limit"),
        pytest.param({"amount": 5000, "tier": "gold"}, "big", id="first-matching-guard-wins"),
        pytest.param({"amount": 10, "tier": "gold-plus"}, "gold", id="regexp"),
        pytest.param({"amount": 10, "tier": "vip"}, "gold", id="in-list"),
        pytest.param({"amount": 5000, "blocked": True}, "small", id="not-exists"),
        pytest.param({"amount": "lots"}, "small", id="incomparable-is-false"),
        pytest.param({}, "small", id="missing-keys-are-false"),
    ],
)
async def test_a_condition_picks_each_branch(
    e3: E3Cluster, http: aiohttp.ClientSession, initial_data: dict[str, Any], branch: str
) -> None:
    orch = await e3.orchestrator()
    e3.worker(orch, "w-echo")
    api = Client(http, orch)

    job_id = await api.start("branching", initial_data)
    job = await api.wait_ended(job_id)

    assert job["status"] == "finished", job
    assert job["result"] == {"branch": branch}
    assert states(await api.history(job_id)) == ["ask", "route", branch]
