"""Fixtures for the webhook tests: a real aiohttp receiver on a loopback port that checks every
signature, and the real app over real Redis with fast webhook settings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from orchestrator import BlueprintRegistry, create_app
from orchestrator.storage.embedded import embedded_store
from orchestrator.storage.redis_store import RedisStore
from orchestrator.webhooks.outbox import Entry, Outbox
from orchestrator.webhooks.signing import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
)
from tests.api.blueprints import ALL
from tests.api.conftest import Api, client_headers, make_settings
from tests.conftest import delete_prefix
from tests.e2e.conftest import cluster, http
from tests.helpers import free_port, wait_for
from tests.webhooks.blueprints import approval

__all__ = ["cluster", "http"]  # the e2e fixtures, for the test with real processes

SECRET = "whsec-test-0123456789"
FAST_WEBHOOKS: dict[str, Any] = {
    "webhook_secret": SECRET,
    "webhook_backoff_s": 0.1,
    "webhook_backoff_max_s": 1.0,
    "webhook_timeout_s": 2.0,
    "sweep_interval_s": 0.02,
    "sweep_idle_interval_s": 0.5,
}


@dataclass
class Delivery:
    """One request the receiver got."""

    headers: dict[str, str]
    raw: bytes
    status: int
    """What the receiver answered."""
    at: float
    """``time.monotonic()`` on arrival."""
    verified: bool

    @property
    def body(self) -> dict[str, Any]:
        return dict(orjson.loads(self.raw))

    @property
    def webhook_id(self) -> str:
        return self.headers[ID_HEADER]


@dataclass
class Receiver:
    """A webhook receiver. Answers the statuses in ``answers`` in turn, then ``default``;
    records every request and whether its signature verified with ``SECRET``."""

    port: int = field(default_factory=free_port)
    answers: list[int] = field(default_factory=list)
    default: int = 200
    requests: list[Delivery] = field(default_factory=list)
    gate: asyncio.Event | None = None
    """When given, each request is held until it is set (a receiver that does not answer);
    it is recorded on arrival, with the status it will answer."""
    pending: int = 0
    """Requests held at the gate now."""
    most_pending: int = 0
    """The most requests held at the gate at once."""
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()  # held requests would keep the server's cleanup waiting
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        headers = dict(request.headers)
        verified = verify(
            SECRET, headers.get(TIMESTAMP_HEADER, ""), headers.get(SIGNATURE_HEADER, ""), raw
        )
        status = self.answers.pop(0) if self.answers else self.default
        self.requests.append(Delivery(headers, raw, status, time.monotonic(), verified))
        if self.gate is not None:
            self.pending += 1
            self.most_pending = max(self.most_pending, self.pending)
            try:
                await self.gate.wait()
            finally:
                self.pending -= 1
        return web.Response(status=status)

    @property
    def delivered(self) -> list[Delivery]:
        """Requests answered 2xx."""
        return [d for d in self.requests if 200 <= d.status < 300]

    async def wait_delivered(self, n: int, timeout: float = 10.0) -> list[Delivery]:
        await wait_for(lambda: len(self.delivered) >= n, timeout, f"{n} webhook deliveries")
        return self.delivered

    async def wait_requests(self, n: int, timeout: float = 10.0) -> list[Delivery]:
        await wait_for(lambda: len(self.requests) >= n, timeout, f"{n} webhook requests")
        return self.requests


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.stop()


MakeApp = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_app(aiohttp_client: Any, redis_url: str, prefix: str) -> AsyncIterator[MakeApp]:
    """Builds the app on real Redis under the test's prefix, with ``FAST_WEBHOOKS`` settings
    (overridable). Several apps of one test share the prefix: a restart is a new app."""
    built: list[Api] = []

    async def make(*, embedded: bool = False, **overrides: Any) -> Api:
        if embedded:
            store = embedded_store(prefix)
        else:
            store = RedisStore(aioredis.Redis.from_url(redis_url), prefix)
        settings = make_settings(**{**FAST_WEBHOOKS, **overrides})
        app = create_app(settings, store, BlueprintRegistry([*ALL, approval]))
        api = Api(client=None, app=app, store=store)  # type: ignore[arg-type]

        async def record(req: web.Request, resp: web.StreamResponse) -> None:
            api.statuses.append((req.method, req.path, resp.status))

        app.on_response_prepare.append(record)
        api.client = await aiohttp_client(app)
        built.append(api)
        return api

    yield make

    for api in built:
        await asyncio.wait_for(api.client.close(), 10)
    await delete_prefix(redis_url, prefix)
    errors = [s for api in built for s in api.statuses if s[2] >= 500]
    assert not errors, f"requests answered with a server error: {errors}"


@pytest.fixture
async def api(make_app: MakeApp) -> Api:
    return await make_app()


async def outbox_entries(api: Api) -> list[tuple[Entry | None, float]]:
    return await Outbox(api.store).entries()


async def run_greeting(api: Api, worker_id: str = "w-hooks", **fields: Any) -> str:
    """A greeting job through a worker to ``finished``; returns its id."""
    job_id = await api.create({"name": "Ada"}, **fields)
    await api.register(worker_id, ["greet"])
    task = await api.take(worker_id)
    resp = await api.result(task, worker_id, data={"greeting": "Hello, Ada"})
    assert resp.status == 200, await resp.text()
    await api.wait_status(job_id, "finished")
    return job_id


async def history_event(api: Api, job_id: str, event_type: str) -> dict[str, Any]:
    """The job's last history event of ``event_type``."""
    resp = await api.client.get(f"/api/v1/jobs/{job_id}/history", headers=client_headers())
    assert resp.status == 200, await resp.text()
    events = [e for e in await resp.json() if e["type"] == event_type]
    assert events, f"no {event_type} event in the history of {job_id}"
    return dict(events[-1])
