"""Real orchestrator processes on one real Redis, with a client allowed to manage blueprints."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import delete_prefix
from tests.helpers import free_port, spawn, wait_for

ADMIN = "wf-admin-token"
PLAIN = "wf-plain-token"
WORKER = "wf-worker-token"
CONFIG = f"""
clients:
  - {{name: desk, token: {ADMIN}, can_manage_blueprints: true}}
  - {{name: plain, token: {PLAIN}}}
workers:
  token: {WORKER}
sweep_interval_s: 0.1
sweep_idle_interval_s: 1.0
"""
TERMINAL = {"finished", "failed", "cancelled", "quarantined"}


@dataclass
class Orch:
    url: str
    session: aiohttp.ClientSession
    token: str = ADMIN

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        yaml_text: str | None = None,
    ) -> tuple[int, Any]:
        headers = {"X-Client-Token": token or self.token}
        kwargs: dict[str, Any] = {"json": body} if yaml_text is None else {"data": yaml_text}
        if yaml_text is not None:
            headers["Content-Type"] = "application/yaml"
        async with self.session.request(method, self.url + path, headers=headers, **kwargs) as r:
            return r.status, await r.json()

    async def start(self, endpoint: str, ticket: dict[str, Any]) -> str:
        status, body = await self.call("POST", endpoint, {"initial_data": ticket})
        assert status == 202, body
        return str(body["job_id"])

    async def job(self, job_id: str) -> dict[str, Any]:
        status, body = await self.call("GET", f"/api/v1/jobs/{job_id}")
        assert status == 200, body
        return dict(body)

    async def waiting_in(self, job_id: str, state: str, timeout: float = 10) -> dict[str, Any]:
        async def there() -> dict[str, Any] | None:
            job = await self.job(job_id)
            assert job["status"] not in TERMINAL, job
            ok = job["status"] == "waiting_for_human" and job["current_state"] == state
            return job if ok else None

        return await wait_for(there, timeout, f"job {job_id} waiting in {state}")

    async def decide(self, job_id: str, decision: str, actor: str, notes: str) -> None:
        body = {"decision": decision, "actor": actor, "notes": notes}
        status, answer = await self.call("POST", f"/api/v1/jobs/{job_id}/decision", body)
        assert status == 200, answer

    async def ended(self, job_id: str, timeout: float = 10) -> dict[str, Any]:
        async def done() -> dict[str, Any] | None:
            job = await self.job(job_id)
            return job if job["status"] in TERMINAL else None

        return await wait_for(done, timeout, f"job {job_id} to end")

    async def history(self, job_id: str) -> list[dict[str, Any]]:
        status, body = await self.call("GET", f"/api/v1/jobs/{job_id}/history")
        assert status == 200, body
        return list(body)


@dataclass
class Cluster:
    redis_url: str
    prefix: str
    tmp: Path
    session: aiohttp.ClientSession
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    async def orchestrator(self, blueprints: str = "tests.workflows.code_blueprints") -> Orch:
        port = free_port()
        config = self.tmp / "orchestrator.yaml"
        config.write_text(CONFIG)
        log = self.tmp / f"orchestrator-{port}.log"
        args = [
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
        ]
        proc = spawn(args, log)
        self.procs.append(proc)
        orch = Orch(f"http://127.0.0.1:{port}", self.session)

        async def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"orchestrator exited:\n{log.read_text()}")
            try:
                async with self.session.get(f"{orch.url}/_public/status") as r:
                    return r.status == 200
            except aiohttp.ClientError:
                return False

        await wait_for(up, 20, "orchestrator to answer /_public/status")
        return orch

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()


@pytest.fixture
async def cluster(redis_url: str, prefix: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    async with aiohttp.ClientSession() as session:
        c = Cluster(redis_url, prefix, tmp_path, session)
        try:
            yield c
        finally:
            c.stop_all()
            await delete_prefix(redis_url, prefix)
