"""Fixtures of the e2e3 tests: the e2e cluster serving ``tests.e2e3`` blueprints and workers."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from orchestrator.storage.keys import Keys
from tests.conftest import delete_prefix
from tests.e2e.conftest import Api, Cluster, Orchestrator
from tests.e2e3.shared import key
from tests.helpers import wait_for

BLUEPRINTS = "tests.e2e3.blueprints"
WORKERS = "tests.e2e3.workers:worker"


class E3Cluster:
    """A ``Cluster`` whose processes serve the e2e3 blueprints and reach the test's Redis."""

    def __init__(self, cluster: Cluster, redis: aioredis.Redis) -> None:
        self.cluster = cluster
        self.redis = redis
        self.env = {"E2E3_REDIS_URL": cluster.redis_url, "E2E3_PREFIX": cluster.prefix}

    @property
    def marks(self) -> Path:
        return self.cluster.marks

    async def orchestrator(self, blueprints: str = BLUEPRINTS) -> Orchestrator:
        return await self.cluster.orchestrator(blueprints=blueprints, **self.env)

    def worker(
        self, orch: Orchestrator, worker_id: str, capacity: int = 1
    ) -> subprocess.Popen[bytes]:
        return self.cluster.worker(orch, worker_id, capacity, target=WORKERS, **self.env)

    async def counter(self, name: str, job_id: str) -> int:
        value = await self.redis.get(key(self.cluster.prefix, name, job_id))
        return int(value or 0)

    async def timers(self) -> list[str]:
        """Due timers (``kind|job|task|attempt``) not yet acted on."""
        members: Any = await self.redis.zrange(Keys(self.cluster.prefix).timers, 0, -1)
        return [m.decode() for m in members]

    async def push(self, name: str, job_id: str) -> None:
        await self.redis.rpush(key(self.cluster.prefix, name, job_id), "go")


@contextlib.asynccontextmanager
async def e3_cluster(redis_url: str, prefix: str, tmp: Path) -> AsyncIterator[E3Cluster]:
    cluster = Cluster(redis_url, prefix, tmp, tmp / "marks")
    redis = aioredis.Redis.from_url(redis_url)
    try:
        yield E3Cluster(cluster, redis)
    finally:
        cluster.stop_all()
        await redis.aclose()
        await delete_prefix(redis_url, prefix)


@pytest.fixture
async def e3(redis_url: str, prefix: str, tmp_path: Path) -> AsyncIterator[E3Cluster]:
    async with e3_cluster(redis_url, prefix, tmp_path) as cluster:
        yield cluster


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Client(Api):
    """``Api`` plus the calls these tests make: raw answers, history, retry, approval."""

    async def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        async with self.session.post(
            f"{self.base}{path}", json=body, headers={**self.headers, **(headers or {})}
        ) as r:
            return r.status, await r.json()

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(f"{self.base}{path}", headers=self.headers) as r:
            return r.status, await r.json()

    async def start(self, endpoint: str, initial_data: dict[str, Any], **fields: Any) -> str:
        status, body = await self.post(
            f"/api/v1/{endpoint}", {"initial_data": initial_data, **fields}
        )
        assert status == 202, body
        return str(body["job_id"])

    async def history(self, job_id: str) -> list[dict[str, Any]]:
        status, body = await self.get(f"/api/v1/jobs/{job_id}/history")
        assert status == 200, body
        return list(body)

    async def approve(
        self, job_id: str, decision: str, token: str | None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"X-Approval-Token": token} if token is not None else {}
        async with self.session.post(
            f"{self.base}/_public/webhooks/approval/{job_id}",
            json={"decision": decision},
            headers=headers,
        ) as r:
            return r.status, await r.json()

    async def wait_ended(self, job_id: str, timeout: float = 20) -> dict[str, Any]:
        async def ended() -> dict[str, Any] | None:
            job = await self.job(job_id)
            terminal = {"finished", "failed", "cancelled", "quarantined"}
            return job if job["status"] in terminal else None

        return await wait_for(ended, timeout, f"job {job_id} to end")


def of_type(history: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [e for e in history if e["type"] == event_type]


def states(history: list[dict[str, Any]]) -> list[str]:
    """The states the job entered, in order."""
    return [e["state"] for e in of_type(history, "state_entered")]
