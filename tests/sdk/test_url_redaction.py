"""Credentials in the orchestrator URL (``--url https://user:password@proxy``, for a proxy
that asks for Basic auth) never reach the worker's log lines or its error messages."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port
from worker_sdk import TaskContext, Worker
from worker_sdk.config import redact_url

from .conftest import StartWorker, wait_for
from .fake_orchestrator import FakeOrchestrator

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-pass"
BASIC = base64.b64encode(f"ops:{PASSWORD}".encode()).decode()
"""What the password looks like in an Authorization header."""


def _with_credentials(url: str) -> str:
    return url.replace("://", f"://ops:{PASSWORD}@", 1)


def test_redact_url_hides_the_userinfo_and_keeps_the_rest() -> None:
    assert redact_url("https://ops:pw@proxy:8443/base?x=1") == "https://***@proxy:8443/base?x=1"
    assert redact_url("http://TOKEN@proxy/") == "http://***@proxy/"
    assert redact_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert redact_url("http://host/files/a@b") == "http://host/files/a@b"  # '@' in a path


async def test_the_worker_logs_no_credentials_of_its_url(
    fake: FakeOrchestrator,
    orch_url: str,
    make_worker: Callable[..., Worker],
    start_worker: StartWorker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # DEBUG: the WebSocket library logs every handshake header there.
    caplog.set_level(logging.DEBUG, logger="worker_sdk")
    worker = make_worker(url=_with_credentials(orch_url))

    @worker.task("echo")
    async def echo(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        return params

    await start_worker(worker)
    await wait_for(lambda: fake.sockets, what="command channel")
    task_id = fake.enqueue("echo", {"n": 1})
    await wait_for(lambda: task_id in fake.results, what="the result")

    lines = [record.getMessage() for record in caplog.records]
    assert any("registered at http://***@127.0.0.1:" in line for line in lines), lines
    assert any("command channel connected to ws://***@127.0.0.1:" in line for line in lines)
    assert "> Authorization: <redacted>" in lines  # sent (the proxy needs it), not logged
    leaked = [line for line in lines if PASSWORD in line or BASIC in line]
    assert leaked == []


async def test_worker_run_with_url_credentials_prints_none_of_them() -> None:
    url = _with_credentials(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    env = os.environ | {"ORCH_WORKER_TOKEN": "t", "WORKER_ID": "cli-redact"}
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "worker_sdk", "run", "orchestrator.examples.echo_worker:worker"],
        *["--url", url, "--log-level", "DEBUG"],
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    seen: list[str] = []
    try:
        async with asyncio.timeout(10):  # the first attempt fails at once: connection refused
            while not any("cannot register" in line for line in seen):
                assert proc.stderr is not None
                line = (await proc.stderr.readline()).decode()
                assert line, f"the worker exited: {''.join(seen)}"
                seen.append(line)
        proc.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(proc.communicate(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = "".join(seen) + rest.decode()
    assert "http://***@127.0.0.1:" in text, text
    assert PASSWORD not in text and BASIC not in text, text

    # A URL refused at start-up is echoed without its credentials too.
    bad = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "worker_sdk", "run", "orchestrator.examples.echo_worker:worker"],
        *["--url", f"ftp://ops:{PASSWORD}@orchestrator"],
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(bad.communicate(), 10)
    assert bad.returncode == 2, stderr
    assert "'ftp://***@orchestrator'" in stderr.decode() and PASSWORD not in stderr.decode()
