"""The command line as a user runs it: demo, jobs start/get/watch, graph, --help."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import orjson

from tests.e2e.conftest import CLIENT_TOKEN, Cluster
from tests.helpers import child_env


async def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
    )


async def test_demo_runs_a_job_end_to_end_and_prints_its_result() -> None:
    done = await _run("demo", "--name", "Ada")
    assert done.returncode == 0, done.stderr
    job = orjson.loads(done.stdout)
    assert job["status"] == "finished"
    assert job["result"]["greeting"] == "Hello, Ada!"


async def test_jobs_start_wait_get_and_watch(cluster: Cluster) -> None:
    orch = await cluster.orchestrator()
    cluster.worker(orch, "w-cli")
    common = ("--url", orch.url, "--token", CLIENT_TOKEN)
    started = await _run("jobs", "start", "v1/echo", "--data", '{"x": 1}', "--wait", *common)
    assert started.returncode == 0, started.stderr
    job = orjson.loads(started.stdout)
    assert (job["status"], job["result"]["echo"]) == ("finished", {"x": 1})
    got = await _run("jobs", "get", job["job_id"], *common)
    assert got.returncode == 0 and orjson.loads(got.stdout)["job_id"] == job["job_id"]
    watched = await _run("jobs", "watch", job["job_id"], *common)
    assert watched.returncode == 0 and "finished" in watched.stderr


async def test_client_errors_are_one_clear_line(cluster: Cluster) -> None:
    orch = await cluster.orchestrator()
    bad_token = await _run("jobs", "get", "x", "--url", orch.url, "--token", "nope")
    assert bad_token.returncode == 1
    assert bad_token.stderr.strip() == (
        "error: 401 UNAUTHORIZED: missing or invalid X-Client-Token"
    )
    bad_json = await _run("jobs", "start", "v1/echo", "--data", "{oops", "--url", orch.url)
    assert bad_json.returncode == 2 and "--data is not valid JSON" in bad_json.stderr
    unreachable = await _run("jobs", "get", "x", "--url", "http://127.0.0.1:9")
    assert unreachable.returncode == 1 and "cannot reach the orchestrator" in unreachable.stderr
    assert "Traceback" not in bad_token.stderr + bad_json.stderr + unreachable.stderr


async def test_help_explains_every_command() -> None:
    top = await _run("--help")
    assert top.returncode == 0
    for command in ("serve", "jobs", "graph", "demo"):
        assert command in top.stdout
    serve = await _run("serve", "--help")
    assert "--redis-url" in serve.stdout and "ORCH_REDIS_URL" in serve.stdout


async def test_serve_with_a_bad_config_says_what_is_wrong(tmp_path: object) -> None:
    done = await _run("serve", "--port", "0")
    assert done.returncode == 2
    assert "no client tokens" in done.stderr and "Traceback" not in done.stderr
