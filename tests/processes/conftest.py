"""Real orchestrator and worker processes serving the domain blueprints (alerts, tickets) on
the test's own Redis: ``Processes`` starts them, ``Client`` speaks the seeds' routes."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from orchestrator.blueprints.workers.notification_store import NotificationStore
from tests.conftest import delete_prefix
from tests.helpers import free_port, spawn, wait_for

CLIENT = "proc-client-token"
WORKER = "proc-worker-token"
CONFIG = f"""
clients:
  - {{name: desk, token: {CLIENT}, can_manage_blueprints: true}}
workers:
  token: {WORKER}
sweep_interval_s: 0.1
lease_s: 2.0
heartbeat_interval_s: 0.5
poll_timeout_s: 2.0
"""
BLUEPRINTS = "orchestrator.blueprints.alerts,orchestrator.blueprints.tickets"
ALERT_WORKER = "orchestrator.blueprints.workers.investigator:worker"
NOTIFY_WORKER = "orchestrator.blueprints.workers.notifier:worker"
DOWN_NOTIFY_WORKER = "tests.processes.down_notifier:worker"
TERMINAL = {"finished", "failed", "cancelled", "quarantined"}


@dataclass
class Processes:
    redis_url: str
    prefix: str
    tmp: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    async def orchestrator(self, **env: str) -> str:
        """Start one orchestrator (``env``: e.g. the alert settings); returns its URL."""
        port = free_port()
        config = self.tmp / "orchestrator.yaml"
        config.write_text(CONFIG)
        log = self.tmp / f"orchestrator-{port}.log"
        args = ["-m", "orchestrator", "serve", "--port", str(port), "--config", str(config)]
        args += ["--redis-url", self.redis_url, "--prefix", self.prefix]
        proc = spawn([*args, "--blueprints", BLUEPRINTS], log, **env)
        self.procs.append(proc)
        url = f"http://127.0.0.1:{port}"

        async def up() -> bool:
            assert proc.poll() is None, log.read_text()
            try:
                async with aiohttp.ClientSession() as s, s.get(f"{url}/_public/status") as r:
                    return r.status == 200
            except aiohttp.ClientError:
                return False

        await wait_for(up, 20, "the orchestrator to answer /_public/status")
        return url

    def worker(self, url: str, target: str, worker_id: str) -> subprocess.Popen[bytes]:
        log = self.tmp / f"worker-{worker_id}.log"
        args = ["-m", "worker_sdk", "run", target, "--url", url, "--token", WORKER]
        proc = spawn(
            [*args, "--worker-id", worker_id],
            log,
            NOTIFIER_REDIS_URL=self.redis_url,
            NOTIFIER_PREFIX=self.notices_prefix,
        )
        self.procs.append(proc)
        return proc

    @property
    def notices_prefix(self) -> str:
        return f"{self.prefix}:notifications"

    async def notices(self) -> list[dict[str, Any]]:
        """What the notifier posted, oldest first, as ``{text, variant, is_global}``."""
        redis = aioredis.Redis.from_url(self.redis_url)
        try:
            posted = await NotificationStore(redis, self.notices_prefix).list(0, 100, None)
        finally:
            await redis.aclose()
        keep = ("text", "variant", "is_global")
        return [{k: n[k] for k in keep} for n in reversed(posted)]

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()


@pytest.fixture
async def processes(redis_url: str, prefix: str, tmp_path: Path) -> AsyncIterator[Processes]:
    found = Processes(redis_url, prefix, tmp_path)
    try:
        yield found
    finally:
        found.stop_all()
        await delete_prefix(redis_url, prefix)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@dataclass
class Client:
    """A client system of the orchestrator at ``url``, with the seeds' Bearer header."""

    session: aiohttp.ClientSession
    url: str

    async def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        sent = {"Authorization": f"Bearer {CLIENT}", **(headers or {})}
        async with self.session.request(method, self.url + path, json=body, headers=sent) as r:
            return r.status, await r.json()

    async def job(self, job_id: str) -> dict[str, Any]:
        status, body = await self.call("GET", f"/api/v1/jobs/{job_id}")
        assert status == 200, body
        return dict(body)

    async def history(self, job_id: str) -> list[dict[str, Any]]:
        status, body = await self.call("GET", f"/api/v1/jobs/{job_id}/history")
        assert status == 200, body
        return list(body)

    async def events(self, job_id: str, kind: str, n: int = 1) -> list[dict[str, Any]]:
        """Wait for ``n`` events of ``kind`` in the job's history; returns them all."""

        async def seen() -> list[dict[str, Any]] | None:
            found = [e for e in await self.history(job_id) if e["type"] == kind]
            return found if len(found) >= n else None

        return await wait_for(seen, 20, f"{n} {kind} event(s) of job {job_id}")

    async def ended(self, job_id: str) -> dict[str, Any]:
        async def done() -> dict[str, Any] | None:
            job = await self.job(job_id)
            return job if job["status"] in TERMINAL else None

        return await wait_for(done, 20, f"job {job_id} to end")
