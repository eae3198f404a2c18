"""``docs/processes.md``, the alert and ticket sections: their curl examples run, in order,
against a real orchestrator process (``--dev`` tokens, real Redis) and the real investigation
worker, and say what the doc says they answer."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import delete_prefix
from tests.helpers import ROOT, child_env, free_port, spawn, wait_for

DOC = (ROOT / "docs" / "processes.md").read_text()
BLUEPRINTS = "orchestrator.blueprints.alerts,orchestrator.blueprints.tickets"
INVESTIGATOR = "orchestrator.blueprints.workers.investigator:worker"


def blocks(section: str) -> list[str]:
    return re.findall(rf"<!-- run: {section} -->\n```sh\n(.*?)```", DOC, re.DOTALL)


@pytest.fixture
async def server(redis_url: str, prefix: str, tmp_path: Path) -> AsyncIterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["-m", "orchestrator", "serve", "--dev", "--port", str(port)]
    args += ["--redis-url", redis_url, "--prefix", prefix, "--blueprints", BLUEPRINTS]
    orch = spawn(args, tmp_path / "orchestrator.log")
    worker = spawn(
        ["-m", "worker_sdk", "run", INVESTIGATOR, "--url", url, "--token", "dev-worker-token"],
        tmp_path / "worker.log",
    )

    async def up() -> bool:
        assert orch.poll() is None, (tmp_path / "orchestrator.log").read_text()
        try:
            async with aiohttp.ClientSession() as s, s.get(f"{url}/_public/status") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    try:
        await wait_for(up, 20, "the orchestrator to start")
        yield url
    finally:
        for proc in (worker, orch):
            proc.kill()
            proc.wait()
        await delete_prefix(redis_url, prefix)


async def _run(script: str, server: str) -> str:
    done = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-c", "set -euo pipefail\n" + script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=child_env(B=server),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    print(done.stdout)  # shown when an assertion below fails
    return done.stdout


async def test_the_alert_examples_run(server: str) -> None:
    found = blocks("alerts")
    assert len(found) == 3, "a runnable alert block was added or lost: update this test"

    out = await _run("\necho\n".join(found) + "\necho\n", server)

    assert '"alertId":"alert-uuid-123","status":"OPEN"' in out
    assert '"status":"ACKNOWLEDGED","message":"Alert acknowledged successfully"' in out
    assert '{"error":"Alert already acknowledged","currentStatus":' in out
    assert '"status":"RESOLVED"' in out and '"findings":["ACME Ltd: screened' in out
    assert '{"error":"Alert not found","alertId":"no-such-alert"}' in out
    assert '"alertId":"alert-7","status":"DISMISSED"' in out
    assert '"code":"VALIDATION_ERROR"' in out


async def test_the_ticket_examples_run(server: str) -> None:
    found = blocks("tickets")
    assert len(found) == 2, "a runnable ticket block was added or lost: update this test"

    out = await _run("\necho\n".join(found) + "\necho\n", server)

    assert '"transitions":[{"transition_id":1,"name":"Assign","to_step":' in out
    assert '"count":1,"page":1,"page_size":10,"next":null,"previous":null}' in out
    assert '"subject":"Laptop not turning on"' in out
    assert '"assignee":"tech-15"' in out and '"limit":1,"next_cursor":null,"count":1' in out
    assert "a resolved step has left the inbox" in out
    assert '"current_step":{"step_id":"node_2","name":"Resolution"}' in out
    assert '"message":"Task transitioned to Resolution"' in out
    assert '"allowed_ids":[2]' in out and '"code":"INVALID_TRANSITION"' in out
    assert '"status":"escalated"' in out
    assert '"status":"resolved","transitions":[]},"message":"Task resolved at Resolution"' in out
    assert '"status":"finished"' in out and '"actor":"tech-3"' in out
    assert '"notes":"Completed initial assessment"' in out
