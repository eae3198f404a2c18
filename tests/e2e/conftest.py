"""Real orchestrator and worker processes on free loopback ports."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import delete_prefix
from tests.helpers import free_port, spawn, wait_for

CLIENT_TOKEN = "e2e-client"
OTHER_CLIENT_TOKEN = "e2e-other-client"
WORKER_TOKEN = "e2e-worker"
OPS_TOKEN = "e2e-ops"

CONFIG = f"""
clients:
  - {{name: e2e, token: {CLIENT_TOKEN}}}
  - {{name: other, token: {OTHER_CLIENT_TOKEN}}}
  - {{name: ops, token: {OPS_TOKEN}, can_manage_workers: true}}
workers:
  token: {WORKER_TOKEN}
lease_s: 1.0
heartbeat_interval_s: 0.25
poll_timeout_s: 2.0
sweep_interval_s: 0.1
# work a killed process left due is found within this (5 s by default)
sweep_idle_interval_s: 0.5
worker_ttl_s: 5
"""


@dataclass
class Orchestrator:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class Cluster:
    """Processes of one test: orchestrators and workers sharing a Redis and a key prefix."""

    redis_url: str
    prefix: str
    tmp: Path
    marks: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    async def orchestrator(
        self,
        *,
        blueprints: str = "tests.e2e.blueprints",
        extra_config: str = "",
        port: int | None = None,
        **env: str,
    ) -> Orchestrator:
        """Start one and wait until it answers; ``port``: a killed one's, to restart it where
        its workers look for it."""
        port = port or free_port()
        config = self.tmp / f"orchestrator-{port}.yaml"
        config.write_text(CONFIG + extra_config)
        log = self.tmp / f"orchestrator-{port}.log"
        proc = spawn(
            [
                "-m",
                "orchestrator",
                "serve",
                "--port",
                str(port),
                "--redis-url",
                self.redis_url,
                "--prefix",
                self.prefix,
                "--config",
                str(config),
                "--blueprints",
                blueprints,
            ],
            log,
            **env,
        )
        self.procs.append(proc)
        orch = Orchestrator(f"http://127.0.0.1:{port}", proc, log)

        async def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"orchestrator exited:\n{log.read_text()}")
            try:
                async with aiohttp.ClientSession() as s, s.get(f"{orch.url}/_public/status") as r:
                    return r.status == 200
            except aiohttp.ClientError:
                return False

        await wait_for(up, 20, "orchestrator to answer /_public/status")
        return orch

    def worker(
        self,
        orch: Orchestrator,
        worker_id: str,
        capacity: int = 1,
        *,
        target: str = "tests.e2e.workers:worker",
        **env: str,
    ) -> subprocess.Popen[bytes]:
        log = self.tmp / f"worker-{worker_id}.log"
        proc = spawn(
            [
                "-m",
                "worker_sdk",
                "run",
                target,
                "--url",
                orch.url,
                "--token",
                WORKER_TOKEN,
                "--worker-id",
                worker_id,
                "--capacity",
                str(capacity),
            ],
            log,
            E2E_MARKS=str(self.marks),
            WORKER_ID=worker_id,
            **env,
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()


@pytest.fixture
async def cluster(redis_url: str, prefix: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    c = Cluster(redis_url, prefix, tmp_path, tmp_path / "marks")
    try:
        yield c
    finally:
        c.stop_all()
        await delete_prefix(redis_url, prefix)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def task_results(session: aiohttp.ClientSession, orch: Orchestrator) -> dict[str, float]:
    """``orchestrator_task_results_total`` of one process, by ``"<transport> <outcome>"``."""
    async with session.get(f"{orch.url}/_public/metrics") as r:
        text = await r.text()
    return {
        f"{s.labels['transport']} {s.labels['outcome']}": s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "orchestrator_task_results_total"
    }


def result_posts(orch: Orchestrator) -> list[str]:
    """The access log's lines of ``POST /_worker/tasks/result`` (results sent over HTTP)."""
    return [line for line in orch.log.read_text().splitlines() if RESULT_POST in line]


RESULT_POST = "POST /_worker/tasks/result "

TAKES_RESULTS = "results go over the command channel"


async def takes_results(cluster: Cluster, worker_id: str) -> None:
    """Wait until the worker's log says its WebSocket takes its results."""
    log = cluster.tmp / f"worker-{worker_id}.log"

    def said() -> bool:
        return log.exists() and TAKES_RESULTS in log.read_text()

    await wait_for(said, 20, f"{worker_id}'s WebSocket to take results")


class Api:
    """A client of one orchestrator's /api group."""

    def __init__(
        self, session: aiohttp.ClientSession, orch: Orchestrator, token: str = CLIENT_TOKEN
    ):
        self.session = session
        self.base = orch.url
        self.headers = {"X-Client-Token": token}

    async def create(self, endpoint: str, initial_data: dict[str, Any]) -> str:
        async with self.session.post(
            f"{self.base}/api/v1/{endpoint}",
            json={"initial_data": initial_data},
            headers=self.headers,
        ) as r:
            assert r.status == 202, await r.text()
            return str((await r.json())["job_id"])

    async def job(self, job_id: str) -> dict[str, Any]:
        async with self.session.get(f"{self.base}/api/v1/jobs/{job_id}", headers=self.headers) as r:
            assert r.status == 200, await r.text()
            body: dict[str, Any] = await r.json()
            return body

    async def cancel(self, job_id: str) -> dict[str, Any]:
        async with self.session.post(
            f"{self.base}/api/v1/jobs/{job_id}/cancel", headers=self.headers
        ) as r:
            assert r.status == 200, await r.text()
            body: dict[str, Any] = await r.json()
            return body

    async def wait_status(self, job_id: str, status: str, timeout: float = 20) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            job = await self.job(job_id)
            return job if job["status"] == status else None

        return await wait_for(reached, timeout, f"job {job_id} to be {status}")
