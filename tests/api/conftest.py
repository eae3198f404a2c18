"""Fixtures for the HTTP API tests: the real app over real Redis (or the embedded store),
driven through aiohttp's test client, plus small helpers that speak the HTTP contract."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from orchestrator import Blueprint, BlueprintRegistry, Settings, create_app
from orchestrator.config import ClientToken
from orchestrator.storage.embedded import embedded_store
from orchestrator.storage.redis_store import RedisStore
from tests.api.blueprints import ALL
from tests.conftest import delete_prefix
from tests.helpers import wait_for

CLIENT_TOKEN = "client-token-alice"
OTHER_CLIENT_TOKEN = "client-token-bob"
WORKER_TOKEN = "worker-token-global"
W1_TOKEN = "tok1"
"""Bound to worker id ``w1`` only."""

FAST = {
    "poll_timeout_s": 1.0,
    "lease_s": 1.0,
    "heartbeat_interval_s": 0.3,
    "sweep_interval_s": 0.05,
    "sweep_idle_interval_s": 0.5,
    "max_body_bytes": 16 * 1024,
}


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "clients": (ClientToken("alice", CLIENT_TOKEN), ClientToken("bob", OTHER_CLIENT_TOKEN)),
        "worker_token": WORKER_TOKEN,
        "worker_tokens": {"w1": W1_TOKEN},
        **FAST,
    }
    values.update(overrides)
    return Settings.from_flat(**values)


def client_headers(token: str = CLIENT_TOKEN) -> dict[str, str]:
    return {"X-Client-Token": token}


def worker_headers(token: str = WORKER_TOKEN) -> dict[str, str]:
    return {"X-Worker-Token": token}


async def assert_error(resp: ClientResponse, status: int, code: str) -> dict[str, Any]:
    """The response is ``status`` with the JSON error envelope carrying ``code``; returns the
    inner ``error`` object."""
    text = await resp.text()
    assert resp.status == status, f"expected {status} {code}, got {resp.status}: {text}"
    assert resp.content_type == "application/json", text
    body = await resp.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    err = body["error"]
    assert set(err) == {"code", "message", "details"}, err
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"], err
    assert isinstance(err["details"], dict), err
    return dict(err)


@dataclass
class Api:
    """The app under test and helpers for the usual requests."""

    client: TestClient[web.Request, web.Application]
    app: web.Application
    store: RedisStore
    statuses: list[tuple[str, str, int]] = field(default_factory=list)
    """(method, path, status) of every response the server prepared."""

    # -- clients ---------------------------------------------------------------------------

    async def create(
        self,
        initial_data: dict[str, Any] | None = None,
        *,
        endpoint: str = "v1/greeting",
        token: str = CLIENT_TOKEN,
        **fields: Any,
    ) -> str:
        body: dict[str, Any] = {"initial_data": initial_data or {"name": "Ada"}, **fields}
        resp = await self.client.post(f"/api/{endpoint}", json=body, headers=client_headers(token))
        assert resp.status == 202, await resp.text()
        answer = await resp.json()
        assert answer["status"] == "accepted"
        assert isinstance(answer["job_id"], str) and answer["job_id"]
        return str(answer["job_id"])

    async def job(self, job_id: str, token: str = CLIENT_TOKEN) -> dict[str, Any]:
        resp = await self.client.get(f"/api/v1/jobs/{job_id}", headers=client_headers(token))
        assert resp.status == 200, await resp.text()
        return dict(await resp.json())

    async def wait_job(
        self, job_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        last: dict[str, Any] = {}

        async def check() -> bool:
            nonlocal last
            last = await self.job(job_id)
            return predicate(last)

        try:
            await wait_for(check, timeout, what=f"job {job_id} to match")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the job was last seen as {last}") from None
        return last

    async def wait_status(self, job_id: str, status: str, timeout: float = 5.0) -> dict[str, Any]:
        return await self.wait_job(job_id, lambda j: j["status"] == status, timeout)

    async def cancel(self, job_id: str, token: str = CLIENT_TOKEN) -> ClientResponse:
        return await self.client.post(
            f"/api/v1/jobs/{job_id}/cancel", headers=client_headers(token)
        )

    # -- workers ---------------------------------------------------------------------------

    async def register(
        self, worker_id: str, skills: Iterable[str] = ("greet",), token: str = WORKER_TOKEN
    ) -> dict[str, Any]:
        resp = await self.client.post(
            "/_worker/workers/register",
            json={"worker_id": worker_id, "supported_skills": list(skills)},
            headers=worker_headers(token),
        )
        assert resp.status == 200, await resp.text()
        return dict(await resp.json())

    async def poll(
        self, worker_id: str, timeout: float | None = None, token: str = WORKER_TOKEN
    ) -> ClientResponse:
        params = {} if timeout is None else {"timeout": str(timeout)}
        return await self.client.get(
            f"/_worker/workers/{worker_id}/tasks/next",
            params=params,
            headers=worker_headers(token),
        )

    async def take(self, worker_id: str, timeout: float = 1.0) -> dict[str, Any]:
        """The next task for ``worker_id``; fails if none comes within ``timeout``. Polls
        again while time is left: the server caps each poll at its ``poll_timeout_s`` (1 s
        here), shorter than what a loaded machine may take to queue the task."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        resp = await self.poll(worker_id, timeout)
        while resp.status == 204 and loop.time() < deadline:
            resp = await self.poll(worker_id, deadline - loop.time())
        assert resp.status == 200, f"no task for {worker_id}: {resp.status} {await resp.text()}"
        return dict(await resp.json())

    async def result(
        self,
        task: dict[str, Any],
        worker_id: str,
        status: str = "success",
        data: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        token: str = WORKER_TOKEN,
        **extra: Any,
    ) -> ClientResponse:
        body = {
            "job_id": task["job_id"],
            "task_id": task["task_id"],
            "worker_id": worker_id,
            "status": status,
            "data": data,
            "error": error,
            **extra,
        }
        return await self.client.post(
            "/_worker/tasks/result", json=body, headers=worker_headers(token)
        )

    async def heartbeat(
        self, worker_id: str, body: Any = None, token: str = WORKER_TOKEN
    ) -> ClientResponse:
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        return await self.client.patch(
            f"/_worker/workers/{worker_id}", headers=worker_headers(token), **kwargs
        )


MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
def store_kind() -> str:
    """Which store ``api`` runs on; parametrize it (indirectly) to run over the embedded one."""
    return "redis"


@pytest.fixture
async def make_api(
    aiohttp_client: Any,
    request: pytest.FixtureRequest,
    prefix: str,
    store_kind: str,
) -> AsyncIterator[MakeApi]:
    """Builds the app (settings overridable) and starts it behind a test client.

    After the test: the app is shut down, the prefix's keys are deleted, and no request of
    the test may have been answered 500 (unless the test is an expected failure).
    """
    built: list[tuple[Api, str | None]] = []

    async def make(
        *,
        store: RedisStore | None = None,
        redis_url: str | None = None,
        blueprints: Iterable[Blueprint] = ALL,
        **overrides: Any,
    ) -> Api:
        url = redis_url
        if store is None:
            if store_kind == "embedded":
                store = embedded_store(prefix)
            else:
                url = url or request.getfixturevalue("redis_url")
                store = RedisStore(aioredis.Redis.from_url(url), prefix)
        app = create_app(make_settings(**overrides), store, BlueprintRegistry(blueprints))
        api = Api(client=None, app=app, store=store)  # type: ignore[arg-type]

        async def record(req: web.Request, resp: web.StreamResponse) -> None:
            api.statuses.append((req.method, req.path, resp.status))

        app.on_response_prepare.append(record)
        api.client = await aiohttp_client(app)
        built.append((api, url))
        return api

    yield make

    for api, url in built:
        try:
            await asyncio.wait_for(api.client.close(), 10)
        except TimeoutError:
            pytest.fail("the app did not shut down within 10 s")
        if url is not None:
            await delete_prefix(url, prefix)
    if request.node.get_closest_marker("xfail") is None:
        errors = [s for api, _ in built for s in api.statuses if s[2] >= 500 and s[2] != 503]
        assert not errors, f"requests answered with a server error: {errors}"


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    return await make_api()
