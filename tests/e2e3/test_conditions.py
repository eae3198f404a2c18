"""A guarded state picks its handler from the job's data; each branch is taken.

The cases share one orchestrator and worker (a module-scoped cluster): each is its own job.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.e2e.conftest import Orchestrator
from tests.e2e3.conftest import Client, e3_cluster, states

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def orch(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Orchestrator]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    async with e3_cluster(redis_url, prefix, tmp_path_factory.mktemp("branching")) as e3:
        orch = await e3.orchestrator()
        e3.worker(orch, "w-echo", capacity=4)
        yield orch


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
    orch: Orchestrator, initial_data: dict[str, Any], branch: str
) -> None:
    async with aiohttp.ClientSession() as http:
        api = Client(http, orch)
        job_id = await api.start("branching", initial_data)
        job = await api.wait_ended(job_id)

        assert job["status"] == "finished", job
        assert job["result"] == {"branch": branch}
        assert states(await api.history(job_id)) == ["ask", "route", branch]
