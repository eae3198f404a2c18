"""A client of the audit processes: the job API, the seed's routes, the notifier's API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.audit.conftest import CLIENT, AuditEnv
from tests.helpers import wait_for

TERMINAL = {"finished", "failed", "cancelled", "quarantined"}


@dataclass
class Audits:
    session: aiohttp.ClientSession
    env: AuditEnv

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {CLIENT}"}

    async def call(
        self, method: str, path: str, body: Any = None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        url = self.env.url + path
        async with self.session.request(method, url, json=body, headers=headers, **kwargs) as r:
            return r.status, await r.json(content_type=None)

    async def start(self, endpoint: str, initial_data: dict[str, Any]) -> str:
        status, body = await self.call(
            "POST", f"/api/v1/{endpoint}", {"initial_data": initial_data}
        )
        assert status == 202, body
        return str(body["job_id"])

    async def ended(self, job_id: str, timeout: float = 30) -> dict[str, Any]:
        async def done() -> dict[str, Any] | None:
            status, job = await self.call("GET", f"/api/v1/jobs/{job_id}")
            assert status == 200, job
            return dict(job) if job["status"] in TERMINAL else None

        return await wait_for(done, timeout, f"job {job_id} to end")

    async def run(self, endpoint: str, initial_data: dict[str, Any]) -> dict[str, Any]:
        return await self.ended(await self.start(endpoint, initial_data))

    async def history(self, job_id: str) -> list[dict[str, Any]]:
        status, body = await self.call("GET", f"/api/v1/jobs/{job_id}/history")
        assert status == 200, body
        return list(body)

    async def notifications(self, **query: str) -> list[dict[str, Any]]:
        async with self.session.get(f"{self.env.notifier_url}/notifications", params=query) as r:
            assert r.status == 200, await r.text()
            return list(await r.json())
