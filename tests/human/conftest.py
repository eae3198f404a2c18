"""Fixtures of the human-step tests: real orchestrators and workers on the test's Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.conftest import OTHER_CLIENT_TOKEN, Orchestrator
from tests.e2e3.conftest import Client, E3Cluster, e3_cluster
from tests.helpers import ROOT, wait_for

BLUEPRINTS = f"tests.human.blueprints,{ROOT / 'tests' / 'human' / 'ticket.yaml'}"
WORKERS = "tests.human.workers:worker"


class Humans(E3Cluster):
    async def orchestrator(self, blueprints: str = BLUEPRINTS) -> Orchestrator:
        return await super().orchestrator(blueprints)

    def notify_worker(self, orch: Orchestrator, worker_id: str = "w-notify") -> None:
        self.cluster.worker(orch, worker_id, 1, target=WORKERS, **self.env)

    async def notices(self, job_id: str) -> list[str]:
        from tests.e2e3.shared import key

        found: Any = await self.redis.lrange(key(self.cluster.prefix, "notified", job_id), 0, -1)
        return [n.decode() for n in found]


@pytest.fixture
async def humans(redis_url: str, prefix: str, tmp_path: Path) -> AsyncIterator[Humans]:
    async with e3_cluster(redis_url, prefix, tmp_path) as cluster:
        yield Humans(cluster.cluster, cluster.redis)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Desk(Client):
    """A client system acting for its people."""

    async def decide(self, job_id: str, decision: str, **fields: Any) -> tuple[int, Any]:
        return await self.post(f"/api/v1/jobs/{job_id}/decision", {"decision": decision, **fields})

    async def inbox(self, **query: Any) -> dict[str, Any]:
        params = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in query.items()}
        async with self.session.get(
            f"{self.base}/api/v1/human-tasks", params=params, headers=self.headers
        ) as r:
            body = await r.json()
            assert r.status == 200, body
            return dict(body)

    async def every_page(self, limit: int, **query: Any) -> list[list[dict[str, Any]]]:
        pages, cursor = [], None
        while True:
            extra = {"cursor": cursor} if cursor else {}
            body = await self.inbox(limit=limit, **query, **extra)
            pages.append(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                return pages

    async def wait_event(self, job_id: str, event_type: str, n: int = 1) -> list[dict[str, Any]]:
        async def seen() -> list[dict[str, Any]] | None:
            found = [e for e in await self.history(job_id) if e["type"] == event_type]
            return found if len(found) >= n else None

        return await wait_for(seen, 20, f"{n} {event_type} event(s) of {job_id}")


def other_client(session: aiohttp.ClientSession, orch: Orchestrator) -> Desk:
    return Desk(session, orch, OTHER_CLIENT_TOKEN)
