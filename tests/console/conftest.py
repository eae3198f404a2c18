"""A real orchestrator (real Redis), a real worker process and a headless Chromium."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import delete_prefix
from tests.console.cdp import Browser, Page, chromium_binary
from tests.helpers import free_port, spawn, wait_for

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


@pytest.fixture
async def stack(redis_url: str, prefix: str, tmp_path: Path) -> AsyncIterator[Stack]:
    port = free_port()
    config = tmp_path / "orchestrator.yaml"
    config.write_text(CONFIG)
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
        # screenshots are artefacts of the run, never committed: CONSOLE_SCREENSHOTS names
        # a directory to keep them in, else they stay in the test's temporary directory
        shots = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path / "shots")
        yield Stack(url, marks, session, shots)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        await session.close()
        await delete_prefix(redis_url, prefix)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    binary = chromium_binary()
    if binary is None:
        pytest.skip(
            "no Chromium on this machine (apt-get install chromium; .ci/run does it): "
            "the console's browser tests did not run"
        )
    b = Browser(binary, tmp_path / "chromium-profile")
    await b.start()
    try:
        yield b
    finally:
        await b.close()


async def signed_in(browser: Browser, stack: Stack, token: str = DESK_TOKEN) -> Page:
    """A new page (its own browser context) on the console, signed in with ``token``."""
    page = await browser.new_page()
    await page.goto(f"{stack.url}/console/")
    await page.wait("!document.querySelector('#sign-in').hidden", "the sign-in form")
    await page.fill("#token", token)
    await page.click("#sign-in-form button[type=submit]")
    await page.wait("!document.querySelector('#nav').hidden", "the console after sign-in")
    return page


def only_own_origin(page: Page, stack: Stack) -> None:
    """Every request the page made went to the orchestrator: no CDN, font or tracker."""
    assert page.requests, "the page made no request at all: the log is not being read"
    foreign = [u for u in page.requests if not u.startswith((f"{stack.url}/", "data:"))]
    assert foreign == [], f"requests to another host: {foreign}"
    assert page.console_errors == [], f"errors in the page: {page.console_errors}"
