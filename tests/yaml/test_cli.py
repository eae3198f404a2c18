"""``orchestrator graph`` and ``orchestrator serve`` on YAML blueprints, as real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from orchestrator.blueprint.yaml_loader import load_yaml
from tests.helpers import ROOT, child_env, free_port, spawn, wait_for
from tests.yaml.conftest import GREETING_YAML


def orchestrator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
        timeout=30,
        check=False,
    )


def test_graph_prints_the_dot_of_a_yaml_blueprint() -> None:
    done = orchestrator("graph", "greeting", "--blueprints", str(GREETING_YAML))

    assert done.returncode == 0, done.stderr
    assert done.stdout == load_yaml(GREETING_YAML).to_dot() + "\n"


def test_graph_of_a_broken_yaml_names_the_line_in_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "greeting.yaml"
    # A target with a typo, beside the right ones: one problem, so one line.
    text = GREETING_YAML.read_text().replace("failure: failed", "failure: failed, later: nowhere")
    broken.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "nowhere" in t)

    done = orchestrator("graph", "greeting", "--blueprints", str(broken))

    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: ")
    assert f"{broken}:{line}: state 'validate':" in done.stderr
    assert "unknown state 'nowhere'" in done.stderr


async def test_serve_runs_a_yaml_blueprint(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    args = ["-m", "orchestrator", "serve", "--dev", "--port", str(port)]
    proc = spawn([*args, "--blueprints", str(GREETING_YAML)], log)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(headers={"X-Client-Token": "dev-client-token"}) as s:

            async def listed() -> list[str]:
                assert proc.poll() is None, log.read_text()
                try:
                    async with s.get(f"{url}/api/v1/blueprints") as resp:
                        return [bp["name"] for bp in await resp.json()]
                except aiohttp.ClientConnectionError:
                    return []

            assert await wait_for(listed, 20, "the orchestrator to serve") == ["greeting"]
            async with s.post(f"{url}/api/v1/greeting", json={"initial_data": {}}) as resp:
                assert resp.status == 202, await resp.text()
                job_id = (await resp.json())["job_id"]

            async def ended() -> dict[str, Any] | None:
                async with s.get(f"{url}/api/v1/jobs/{job_id}") as resp:
                    job: dict[str, Any] = await resp.json()
                    return job if job["status"] == "failed" else None

            job = await wait_for(ended, 10, "the job to fail for want of a name")
            assert job["error"]["code"] == "MISSING_FIELDS"
    finally:
        proc.terminate()
        proc.wait(10)
