"""A real orchestrator (real Redis, moto's S3 server), a real worker process and a headless
Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.conftest import delete_prefix
from tests.console.browser import Browser, Page, chromium, chromium_binary
from tests.files.conftest import BUCKET, KEY_ID, REGION, SECRET, s3, s3_url
from tests.helpers import ROOT, free_port, spawn, wait_for

__all__ = ["s3", "s3_url"]  # moto's S3 server, for the job page's files

DESK_TOKEN = "console-desk-token"
"""May register blueprints."""
VIEWER_TOKEN = "console-viewer-token"
WORKER_TOKEN = "console-worker-token"

CONFIG = f"""
clients:
  - {{name: desk, token: {DESK_TOKEN}, can_manage_blueprints: true}}
  - {{name: viewer, token: {VIEWER_TOKEN}}}
workers:
  token: {WORKER_TOKEN}
heartbeat_interval_s: 0.5
poll_timeout_s: 2.0
sweep_interval_s: 0.1
"""
S3_CONFIG = f"""s3_bucket: {BUCKET}
s3_region: {REGION}
s3_access_key_id: {KEY_ID}
s3_secret_access_key: {SECRET}
"""


@dataclass
class Stack:
    url: str
    marks: Path
    http: aiohttp.ClientSession
    shots: Path

    async def call(self, method: str, path: str, body: Any = None, token: str = DESK_TOKEN) -> Any:
        async with self.http.request(
            method, f"{self.url}{path}", json=body, headers={"X-Client-Token": token}
        ) as r:
            assert r.status < 300, f"{method} {path}: {r.status} {await r.text()}"
            return await r.json()

    async def start(self, key: str) -> str:
        body = await self.call("POST", "/api/v1/review", {"initial_data": {"key": key}})
        return str(body["job_id"])

    async def upload(self, job_id: str, name: str, content: bytes) -> None:
        path = f"{self.url}/api/v1/jobs/{job_id}/files/content/{name}"
        headers = {"X-Client-Token": DESK_TOKEN}
        async with self.http.put(path, data=content, headers=headers) as r:
            assert r.status == 200, f"upload {name}: {r.status} {await r.text()}"

    async def job(self, job_id: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.call("GET", f"/api/v1/jobs/{job_id}")
        return body

    async def reaches(self, job_id: str, status: str) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            job = await self.job(job_id)
            return job if job["status"] == status else None

        return await wait_for(check, 20, f"job {job_id} to be {status}")

    def mark(self, name: str) -> None:
        self.marks.mkdir(parents=True, exist_ok=True)
        (self.marks / name).write_text("")


def artefacts(request: pytest.FixtureRequest) -> Path:
    """Where this test's screenshots go: artefacts of the run, never committed
    (``ORCH_TEST_ARTEFACTS``, by default ``test-artefacts/`` at the top of the repository)."""
    root = Path(os.environ.get("ORCH_TEST_ARTEFACTS") or ROOT / "test-artefacts")
    return root / "console" / request.node.name


@pytest_asyncio.fixture(loop_scope="module")  # the loop of the module's one browser
async def stack(
    request: pytest.FixtureRequest, redis_url: str, prefix: str, tmp_path: Path
) -> AsyncIterator[Stack]:
    """The orchestrator has S3 (moto's server) when the test asks for the ``s3`` fixture:
    opening an S3 client slows every start, and most tests have no file."""
    port = free_port()
    config = tmp_path / "orchestrator.yaml"
    text = CONFIG
    if "s3" in request.fixturenames:
        s3_url = request.getfixturevalue("s3_url")
        text += S3_CONFIG + f"s3_endpoint_url: {s3_url}\ns3_key_prefix: console-{prefix}\n"
    config.write_text(text)
    marks = tmp_path / "marks"
    url = f"http://127.0.0.1:{port}"
    orch_log, worker_log = tmp_path / "orchestrator.log", tmp_path / "worker.log"
    procs = [
        spawn(
            ["-m", "orchestrator", "serve", "--port", str(port), "--redis-url", redis_url,
             "--prefix", prefix, "--config", str(config),
             "--blueprints", "tests.console.blueprints"],
            orch_log,
        )
    ]  # fmt: skip
    session = aiohttp.ClientSession()
    try:

        async def up() -> bool:
            if procs[0].poll() is not None:
                raise AssertionError(f"orchestrator exited:\n{orch_log.read_text()}")
            try:
                async with session.get(f"{url}/_public/status") as r:
                    return r.status == 200
            except aiohttp.ClientError:
                return False

        await wait_for(up, 20, "the orchestrator to answer")
        procs.append(
            spawn(
                ["-m", "worker_sdk", "run", "tests.console.workers:worker", "--url", url,
                 "--token", WORKER_TOKEN, "--worker-id", "console-w1", "--capacity", "4"],
                worker_log,
                CONSOLE_MARKS=str(marks),
            )
        )  # fmt: skip
        yield Stack(url, marks, session, artefacts(request))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        await session.close()
        await delete_prefix(redis_url, prefix)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One browser for the module (starting one costs a second or two); each page still
    has a browser context of its own, so no test sees another's storage."""
    binary = chromium_binary()
    if binary is None:
        pytest.skip(
            "no Chromium on this machine (apt-get install chromium; .ci/run does it): "
            "the console's browser tests did not run"
        )
    async with chromium(binary) as b:
        yield b


async def signed_in(browser: Browser, stack: Stack, token: str = DESK_TOKEN) -> Page:
    """A new page (its own browser context) on the console, signed in with ``token``."""
    page = await Page.open(browser)
    await page.goto(f"{stack.url}/console/")
    await page.wait("!document.querySelector('#sign-in').hidden", "the sign-in form")
    await page.fill("#token", token)
    await page.click("#sign-in-form button[type=submit]")
    await page.wait("!document.querySelector('#nav').hidden", "the console after sign-in")
    return page


def only_own_origin(page: Page, stack: Stack) -> None:
    """Every request the page made went to the orchestrator: no CDN, font or tracker."""
    assert page.requests, "the page made no request at all: the log is not being read"
    # blob: URLs of its own origin are files it saved (made in the page from an API answer)
    own = (f"{stack.url}/", f"blob:{stack.url}/", "data:")
    foreign = [u for u in page.requests if not u.startswith(own)]
    assert foreign == [], f"requests to another host: {foreign}"
    assert page.console_errors == [], f"errors in the page: {page.console_errors}"
