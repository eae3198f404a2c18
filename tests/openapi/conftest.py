"""The app on a real loopback port over real Redis, for the schemathesis run.

Schemathesis is synchronous (requests), so the app runs on an event loop of its own in a
background thread, and the test talks to it over HTTP like any client.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis.asyncio as aioredis
import requests
from aiohttp import web

from orchestrator import BlueprintRegistry, create_app
from orchestrator.config import Settings
from orchestrator.storage.redis_store import RedisStore
from tests.api.conftest import (
    CLIENT_TOKEN,
    OTHER_CLIENT_TOKEN,
    WORKER_TOKEN,
    api,
    make_api,
    make_settings,
    store_kind,
)
from tests.conftest import delete_prefix
from tests.files.conftest import BUCKET, KEY_ID, REGION, SECRET, s3, s3_url
from tests.helpers import free_port
from tests.openapi.blueprints import ALL

# fixtures shared with tests/api (the app behind a test client) and tests/files (moto's S3)
__all__ = ["api", "make_api", "s3", "s3_url", "store_kind"]

FUZZ_WORKER = "fuzz-worker"
"""Registered; its heartbeats are fuzzed (which may change its skills)."""
POLLER = "fuzz-poller"
"""Registered; polls for tasks, and holds one from the start."""
FILENAME = "report.txt"
"""A file stored for the job of the held task."""


class ServedApp:
    """``create_app`` behind an ``AppRunner`` on 127.0.0.1, in a thread with its own loop."""

    def __init__(self, settings: Settings, redis_url: str, prefix: str) -> None:
        self.settings, self.redis_url, self.prefix = settings, redis_url, prefix
        self.url = f"http://127.0.0.1:{free_port()}"
        self.statuses: list[tuple[str, str, int]] = []
        """(method, path, status) of every response the server prepared, streams included."""
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="fuzzed-app", daemon=True)

    def __enter__(self) -> ServedApp:
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("the app did not start within 15 s")
        if self._failed is not None:
            raise RuntimeError("the app did not start") from self._failed
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            runner = loop.run_until_complete(self._start())
        except BaseException as exc:  # reported by __enter__
            self._failed = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(delete_prefix(self.redis_url, self.prefix))
            loop.close()

    async def _start(self) -> web.AppRunner:
        store = RedisStore(aioredis.Redis.from_url(self.redis_url), self.prefix)
        app = create_app(self.settings, store, BlueprintRegistry(ALL))

        async def record(request: web.Request, response: web.StreamResponse) -> None:
            self.statuses.append((request.method, request.path, response.status))

        app.on_response_prepare.append(record)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        port = int(self.url.rsplit(":", 1)[1])
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner


@dataclass
class Seeded:
    """Real resources for the fuzzer to hit, besides the ids it makes up."""

    live_jobs: list[str] = field(default_factory=list)
    ended_jobs: list[str] = field(default_factory=list)
    other_clients_job: str = ""
    approval_tokens: dict[str, str] = field(default_factory=dict)
    """Job waiting for a person → its approval token."""
    held: dict[str, str] = field(default_factory=dict)
    """``job_id``, ``task_id`` and ``worker_id`` of a task leased to ``POLLER``."""

    @property
    def jobs(self) -> list[str]:
        return [*self.live_jobs, *self.ended_jobs, self.other_clients_job]


def seed(url: str) -> Seeded:
    session = requests.Session()
    session.headers["X-Client-Token"] = CLIENT_TOKEN
    worker = {"X-Worker-Token": WORKER_TOKEN}

    def call(method: str, path: str, **kwargs: Any) -> Any:
        resp = session.request(method, f"{url}{path}", timeout=10, **kwargs)
        assert resp.ok, (path, resp.status_code, resp.text)
        return resp.json()

    def create(endpoint: str, data: dict[str, Any], **kwargs: Any) -> str:
        body = {"initial_data": data}
        return str(call("POST", f"/api/v1/{endpoint}", json=body, **kwargs)["job_id"])

    for worker_id in (FUZZ_WORKER, POLLER):
        body = {"worker_id": worker_id, "supported_skills": ["greet", "review"]}
        call("POST", "/_worker/workers/register", json=body, headers=worker)
    seeded = Seeded()
    seeded.live_jobs += [create("greeting", {"name": "Ada"}) for _ in range(3)]
    task = call("GET", f"/_worker/workers/{POLLER}/tasks/next?timeout=1", headers=worker)
    seeded.held = {"job_id": task["job_id"], "task_id": task["task_id"], "worker_id": POLLER}
    call("PUT", f"/api/v1/jobs/{task['job_id']}/files/content/{FILENAME}", data=b"seeded")
    seeded.ended_jobs.append(create("greeting", {}))  # fails at once: MISSING_FIELDS
    cancelled = create("review", {})
    call("POST", f"/api/v1/jobs/{cancelled}/cancel")
    seeded.ended_jobs.append(cancelled)
    for _ in range(3):
        job_id = create("approval", {})
        seeded.approval_tokens[job_id] = call("GET", f"/api/v1/jobs/{job_id}")["approval"]["token"]
        seeded.live_jobs.append(job_id)
    bob = {"X-Client-Token": OTHER_CLIENT_TOKEN}
    seeded.other_clients_job = create("greeting", {"name": "Bob"}, headers=bob)
    return seeded


@pytest.fixture(scope="module")
def served(redis_url: str, s3: Any, s3_url: str) -> Iterator[ServedApp]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    settings = make_settings(
        poll_timeout_s=0.2,
        lease_s=300.0,  # the seeded task stays held through the run
        max_body_bytes=64 * 1024,
        s3_bucket=BUCKET,
        s3_endpoint_url=s3_url,
        s3_region=REGION,
        s3_access_key_id=KEY_ID,
        s3_secret_access_key=SECRET,
        s3_key_prefix=f"jobs-{prefix}",
    )
    with ServedApp(settings, redis_url, prefix) as app:
        yield app
    errors = [s for s in app.statuses if s[2] >= 500 and s[2] != 503]
    assert not errors, f"requests answered with a server error: {errors}"


@pytest.fixture(scope="module")
def seeded(served: ServedApp) -> Seeded:
    return seed(served.url)
