"""``docs/workflows.md``: its curl examples run, in order, against a real orchestrator process
on real Redis, configured with the doc's own config block."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from orchestrator.blueprints import tickets
from tests.conftest import delete_prefix
from tests.helpers import ROOT, child_env, free_port, spawn, wait_for

DOC = (ROOT / "docs" / "workflows.md").read_text()
RUN = re.compile(r"<!-- run -->\n```sh\n(.*?)```", re.DOTALL)
CONFIG = re.compile(r"```yaml\n(clients:.*?)```", re.DOTALL)


@pytest.fixture
async def server(redis_url: str, prefix: str, tmp_path: Path) -> AsyncIterator[str]:
    config = tmp_path / "orchestrator.yaml"
    match = CONFIG.search(DOC)
    assert match, "docs/workflows.md lost its config block"
    config.write_text(match.group(1))
    port = free_port()
    log = tmp_path / "orchestrator.log"
    proc = spawn(
        [
            "-m",
            "orchestrator",
            "serve",
            "--port",
            str(port),
            "--redis-url",
            redis_url,
            "--prefix",
            prefix,
            "--config",
            str(config),
        ],
        log,
    )
    url = f"http://127.0.0.1:{port}"

    async def up() -> bool:
        assert proc.poll() is None, log.read_text()
        try:
            async with aiohttp.ClientSession() as s, s.get(f"{url}/_public/status") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    try:
        await wait_for(up, 20, "the orchestrator to start")
        yield url
    finally:
        proc.kill()
        proc.wait()
        await delete_prefix(redis_url, prefix)


def test_the_doc_shows_the_shipped_workflows_real_version() -> None:
    shown = set(re.findall(r'"version":"([0-9a-f]{12})"', DOC))

    assert shown == {tickets.it_support_request.version}


async def test_the_curl_examples_run(server: str) -> None:
    blocks = RUN.findall(DOC)
    assert len(blocks) == 5, "a runnable block was added or lost: update this test"
    script = "set -euo pipefail\n" + "\necho\n".join(blocks) + "\necho\n"

    done = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=child_env(B=server),
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    print(done.stdout)  # shown when an assertion below fails
    out = done.stdout
    assert '"name":"it-support-request"' in out
    assert '"temp_id_mapping":{"node_1":"Triage","node_2":"Resolution"}' in out
    assert '"state":"Triage"' in out and '"role":"2"' in out  # the inbox
    assert '"status":"finished"' in out and '"actor":"tech-3"' in out
    for path in ("workflow.high_sla", "graph.nodes[0].weight", "graph.edges[0].to_temp_id"):
        assert f'"path":"{path}"' in out
    assert '"retired":true' in out
    assert '"code":"BLUEPRINT_RETIRED"' in out
