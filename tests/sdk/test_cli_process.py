"""`python -m worker_sdk run ...` as a real process against the fake orchestrator."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from .conftest import wait_for
from .fake_orchestrator import TOKEN, FakeOrchestrator

ROOT = Path(__file__).resolve().parents[2]


async def _spawn(url: str, token: str) -> asyncio.subprocess.Process:
    env = os.environ | {"ORCH_URL": url, "ORCH_WORKER_TOKEN": token, "WORKER_ID": "cli-1"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker_sdk",
        "run",
        "orchestrator.examples.echo_worker:worker",
        "--capacity",
        "3",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_cli_runs_a_worker_until_sigterm(fake: FakeOrchestrator, orch_url: str) -> None:
    proc = await _spawn(orch_url, TOKEN)
    try:
        task_id = fake.enqueue("echo", {"hello": "cli"})
        await wait_for(lambda: task_id in fake.results, timeout_s=5, what="result from the CLI")
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 5)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, stderr.decode()
    assert fake.registrations[0]["worker_id"] == "cli-1"
    assert fake.registrations[0]["capacity"] == 3
    assert fake.results[task_id]["data"] == {"echo": {"hello": "cli"}}
    assert TOKEN not in stderr.decode()


async def test_cli_exits_1_when_the_token_is_rejected(orch_url: str) -> None:
    proc = await _spawn(orch_url, "not-the-token")
    _, stderr = await asyncio.wait_for(proc.communicate(), 5)
    text = stderr.decode()
    assert proc.returncode == 1, text
    assert "rejected the worker token" in text
    assert "not-the-token" not in text
    assert "Traceback" not in text
