"""The command line as a user runs it: demo, jobs start/get/watch, graph, --help."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import orjson
import pytest

from tests.e2e.conftest import CLIENT_TOKEN, WORKER_TOKEN, Api, Cluster, Orchestrator
from tests.helpers import ROOT, RedisProcess, child_env, free_port, wait_for


async def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
    )


async def test_demo_runs_the_alert_process_end_to_end_and_prints_the_alert() -> None:
    done = await _run("demo", "--title", "Ada's alert")
    assert done.returncode == 0, done.stderr
    alert = orjson.loads(done.stdout)
    assert (alert["status"], alert["title"]) == ("RESOLVED", "Ada's alert")
    assert alert["decidedBy"] == "demo-compliance-officer"
    assert alert["findings"] and "ACME Ltd" in alert["findings"][0]
    lines = done.stderr.strip().splitlines()
    # the seed's answers are shown: acknowledged once, refused the second time
    assert any(
        '"status":"ACKNOWLEDGED","message":"Alert acknowledged successfully"' in line
        for line in lines
    ), done.stderr
    assert any('400 {"error":"Alert already acknowledged"' in line for line in lines)
    # The run ends on a success line, and the worker's "SIGTERM received" is announced as the
    # demo stopping its own worker, not left to read as an alarm.
    assert lines[-1].startswith(f"[demo] success: alert {alert['alertId']} RESOLVED"), lines[-3:]
    # (not necessarily the line just before: the worker may still log its result's answer)
    sigterm = next(i for i, line in enumerate(lines) if "worker_sdk: SIGTERM received" in line)
    stop = next(i for i, line in enumerate(lines) if "stopping the demo's worker" in line)
    assert lines[stop].startswith("[demo] stopping") and stop < sigterm, done.stderr
    assert "notice:" not in done.stderr  # the worker is up before the alert needs it


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
        "error: 401 UNAUTHORIZED: invalid client token (X-Client-Token or Authorization: Bearer)"
    )
    bad_json = await _run("jobs", "start", "v1/echo", "--data", "{oops", "--url", orch.url)
    assert bad_json.returncode == 2 and "--data is not valid JSON" in bad_json.stderr
    unreachable = await _run("jobs", "get", "x", "--url", "http://127.0.0.1:9")
    assert unreachable.returncode == 1 and "cannot reach the orchestrator" in unreachable.stderr
    # a watch that never reached it is a wrong URL, not a restart: it stops at once
    never = await _run("jobs", "watch", "x", "--url", "http://127.0.0.1:9", timeout=20)
    assert never.returncode == 1 and "cannot reach the orchestrator" in never.stderr
    assert "asking again" not in never.stderr
    # credentials for a proxy in front are used, never echoed
    hidden = await _run("jobs", "get", "x", "--url", "http://ops:s3cret@127.0.0.1:9")
    assert "cannot reach the orchestrator at http://***@127.0.0.1:9/" in hidden.stderr
    assert "s3cret" not in hidden.stderr
    assert "Traceback" not in bad_token.stderr + bad_json.stderr + unreachable.stderr


async def test_help_explains_every_command() -> None:
    top = await _run("--help")
    assert top.returncode == 0
    for command in ("serve", "jobs", "graph", "demo"):
        assert command in top.stdout
    serve = await _run("serve", "--help")
    assert "--redis-url" in serve.stdout and "ORCH_REDIS_URL" in serve.stdout
    for jobs in (await _run("jobs", "--help"), await _run("jobs", "start", "--help")):
        assert "ORCH_CLIENT_TOKEN" in jobs.stdout and "Exit codes:" in jobs.stdout, jobs.stdout
    get = await _run("jobs", "get", "--help")
    assert "the job's id (jobs start prints it)" in get.stdout


async def test_serve_with_a_bad_config_says_what_is_wrong(tmp_path: object) -> None:
    done = await _run("serve", "--port", "0")
    assert done.returncode == 2
    assert "no client tokens" in done.stderr and "Traceback" not in done.stderr


MY_FLOW = """
from orchestrator import Actions, Blueprint

blueprint = Blueprint("my_flow")


@blueprint.handler(start=True)
async def begin(actions: Actions) -> None:
    actions.go_to("done")


@blueprint.handler(end=True)
async def done() -> dict:
    return {"ok": True}
"""


def _console_script(name: str) -> str:
    """The installed ``orchestrator`` command: unlike ``python -m``, it does not put the
    current directory on ``sys.path`` by itself."""
    script = Path(sys.executable).parent / name
    assert script.exists(), f"{script} is missing: install the project (python3 dev.py test)"
    return str(script)


def _env_without_pythonpath() -> dict[str, str]:
    # An empty PYTHONPATH entry means "the current directory": it would hide the bug.
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _launch(
    args: list[str], log: Path, env: dict[str, str], cwd: Path | None
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)


def _text(log: Path) -> str:
    return log.read_text()


@asynccontextmanager
async def _serving(
    args: list[str], log: Path, env: dict[str, str], cwd: Path | None = None
) -> AsyncIterator[str]:
    """An ``orchestrator serve --dev`` process on a free port, up; killed on the way out."""
    port = free_port()
    proc = _launch([*args, "--port", str(port)], log, env, cwd)
    url = f"http://127.0.0.1:{port}"

    async def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"orchestrator exited:\n{_text(log)}")
        try:
            async with aiohttp.ClientSession() as s, s.get(f"{url}/_public/status") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    try:
        await wait_for(up, 20, "orchestrator to answer /_public/status")
        yield url
    finally:
        proc.kill()
        proc.wait()


async def test_graph_and_serve_import_a_blueprint_module_from_the_current_directory(
    tmp_path: Path,
) -> None:
    (tmp_path / "my_flow.py").write_text(MY_FLOW)
    orchestrator = _console_script("orchestrator")
    env = _env_without_pythonpath()

    graph = await asyncio.to_thread(
        subprocess.run,
        [orchestrator, "graph", "my_flow", "--blueprints", "my_flow"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert graph.returncode == 0, graph.stderr
    assert "digraph my_flow {" in graph.stdout

    args = [orchestrator, "serve", "--dev", "--blueprints", "my_flow"]
    async with (
        _serving(args, tmp_path / "serve.log", env, cwd=tmp_path) as url,
        aiohttp.ClientSession(headers={"X-Client-Token": "dev-client-token"}) as http,
        http.get(f"{url}/api/v1/blueprints") as resp,
    ):
        assert resp.status == 200
        assert [bp["name"] for bp in await resp.json()] == ["my_flow"]


TYPOS = {
    "a misspelt decorator": (
        MY_FLOW.replace("@blueprint.handler(end=True)", "@blueprint.hanlder(end=True)"),
        "AttributeError: 'Blueprint' object has no attribute 'hanlder'. "
        "Did you mean: 'handler'? (my_flow.py, line 12)",
    ),
    "a syntax error": (
        MY_FLOW.replace("-> dict:", "-> dict"),
        "SyntaxError: expected ':' (my_flow.py, line 13)",
    ),
    "a misspelt name": (
        MY_FLOW.replace('Blueprint("my_flow")', 'Bluprint("my_flow")'),
        "NameError: name 'Bluprint' is not defined. Did you mean: 'Blueprint'? "
        "(my_flow.py, line 4)",
    ),
    "a misspelt import": (
        MY_FLOW.replace("import Actions, Blueprint", "import Actions, Bleuprint"),
        "ImportError: cannot import name 'Bleuprint' from 'orchestrator' "
        f"({ROOT}/orchestrator/__init__.py). Did you mean: 'Blueprint'? (my_flow.py, line 2)",
    ),
    "a plain def handler": (
        MY_FLOW.replace("async def done", "def done"),
        "TypeError: blueprint 'my_flow': handler 'done' must be async def (my_flow.py, line 12)",
    ),
}


@pytest.mark.parametrize("typo", TYPOS, ids=list(TYPOS))
async def test_a_typo_in_a_blueprint_module_is_one_line_naming_the_line(
    typo: str, tmp_path: Path
) -> None:
    """A newcomer's first blueprint: the mistake and where it is, not importlib's frames."""
    source, says = TYPOS[typo]
    (tmp_path / "my_flow.py").write_text(source)
    for args in (["serve", "--dev", "--port", str(free_port())], ["graph", "my_flow"]):
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "orchestrator", *args, "--blueprints", "my_flow"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env=child_env(),
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr == f"error: cannot import blueprint module 'my_flow': {says}\n"


async def test_serve_dev_without_blueprints_says_it_serves_none_and_how_to_give_one(
    tmp_path: Path,
) -> None:
    log = tmp_path / "serve.log"
    args = [sys.executable, "-m", "orchestrator", "serve", "--dev"]
    async with _serving(args, log, child_env()):
        # Logged before the server listens, so it is in the log once the server answers.
        text = _text(log)
    assert "serving no blueprint" in text and "--blueprints my_flow" in text, text


async def _stderr_until(proc: asyncio.subprocess.Process, needle: str, timeout: float) -> str:
    """The process's stderr up to the first line holding ``needle``."""
    assert proc.stderr is not None
    seen: list[str] = []

    async def read() -> str:
        assert proc.stderr is not None
        while line := (await proc.stderr.readline()).decode():
            seen.append(line)
            if needle in line:
                return line
        raise AssertionError(f"stderr ended without {needle!r}:\n{''.join(seen)}")

    try:
        return await asyncio.wait_for(read(), timeout)
    except TimeoutError:
        raise AssertionError(f"no {needle!r} within {timeout}s:\n{''.join(seen)}") from None


async def _start_and_wait(url: str, route: str, data: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "orchestrator", "jobs", "start", route, "--data", data),
        *("--wait", "--url", url, "--token", CLIENT_TOKEN),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(),
    )


async def test_jobs_start_wait_says_when_no_worker_serves_the_task(cluster: Cluster) -> None:
    orch = await cluster.orchestrator()
    proc = await _start_and_wait(orch.url, "v1/echo", '{"x": 1}')
    try:
        notice = await _stderr_until(proc, "notice:", 20)
    finally:
        proc.kill()
        await proc.wait()
    assert "for a worker to take a 'echo' task" in notice, notice
    assert "no live worker serves 'echo'" in notice and "worker run" in notice, notice


async def test_jobs_start_wait_names_a_skill_that_looks_like_a_misspelt_task_type(
    cluster: Cluster,
) -> None:
    orch = await cluster.orchestrator()
    async with aiohttp.ClientSession() as http:
        body = {"worker_id": "w-typo", "supported_skills": ["ecoh"]}
        headers = {"X-Worker-Token": WORKER_TOKEN}
        async with http.post(f"{orch.url}/_worker/workers/register", json=body, headers=headers):
            pass
    proc = await _start_and_wait(orch.url, "v1/echo", '{"x": 1}')
    try:
        notice = await _stderr_until(proc, "notice:", 20)
    finally:
        proc.kill()
        await proc.wait()
    assert (
        "no live worker serves 'echo'; a live worker serves 'ecoh': is one of the two names "
        "misspelt?"
    ) in notice, notice


async def test_jobs_start_wait_counts_the_workers_of_a_task_it_waits_for(
    cluster: Cluster,
) -> None:
    orch = await cluster.orchestrator()
    cluster.worker(orch, "w-busy", capacity=1)
    # The worker's one slot runs a task that hangs, so the echo task stays queued.
    first = await _start_and_wait(orch.url, "v1/slow", '{"hang_s": 60}')
    await wait_for(
        lambda: cluster.marks.exists() and any(cluster.marks.glob("started-*")),
        20,
        "the worker to start the hanging task",
    )
    proc = await _start_and_wait(orch.url, "v1/echo", '{"x": 1}')
    try:
        notice = await _stderr_until(proc, "notice:", 20)
    finally:
        for p in (first, proc):
            p.kill()
            await p.wait()
    assert "1 live worker(s) serve it, 1 of them busy" in notice, notice


async def test_jobs_start_wait_says_when_a_job_waits_for_a_person(cluster: Cluster) -> None:
    orch = await cluster.orchestrator(
        blueprints="tests.e2e.blueprints,orchestrator.examples.cookbook_approval"
    )
    proc = await _start_and_wait(orch.url, "v1/expenses", '{"amount": 500}')
    try:
        notice = await _stderr_until(proc, "notice:", 20)
    finally:
        proc.kill()
        await proc.wait()
    assert "in state 'ask_manager' for a person to decide (approve, reject)" in notice, notice
    assert "/_public/webhooks/approval/" in notice, notice


async def test_a_worker_pointed_at_the_client_api_is_told_to_drop_api(cluster: Cluster) -> None:
    """``--url http://host:8080/api`` reached the client API, which asks for a client token:
    the worker said its worker token was rejected, which sent people to check the token."""
    orch = await cluster.orchestrator()
    at_api = Orchestrator(f"{orch.url}/api", orch.proc, orch.log)

    proc = cluster.worker(at_api, "w-api-url")

    assert await asyncio.to_thread(proc.wait, 30) == 1
    log = (cluster.tmp / "worker-w-api-url.log").read_text()
    assert (
        f"ERROR worker_sdk: {orch.url}/api answered as the orchestrator's client API, not its "
        "worker routes (HTTP 401 MISSING_AUTH_HEADER: "
    ) in log, log
    assert "give the orchestrator's base URL, without /api (--url / ORCH_URL)" in log
    assert "rejected the worker token" not in log and "Traceback" not in log


async def test_graph_of_a_misspelt_name_lists_the_blueprints_found() -> None:
    done = await _run("graph", "greting", "--blueprints", "orchestrator.examples.greeting")
    assert done.returncode == 2
    assert done.stderr == (
        "error: no blueprint 'greting' in orchestrator.examples.greeting "
        "(blueprints found: greeting)\n"
    )


async def test_graph_with_an_empty_blueprints_says_so() -> None:
    done = await _run("graph", "greeting", "--blueprints", "")
    assert (done.returncode, done.stderr) == (
        2,
        "error: --blueprints names nothing: give a module or a YAML file\n",
    )


async def test_an_https_url_to_the_plain_http_server_says_to_use_http(cluster: Cluster) -> None:
    """OpenSSL's "wrong version number" does not say that the scheme is the mistake."""
    orch = await cluster.orchestrator()
    https = orch.url.replace("http://", "https://")
    hint = "; the server there speaks plain HTTP: use http://, not https://"

    got = await _run("jobs", "get", "x", "--url", https, "--token", CLIENT_TOKEN)

    assert got.returncode == 1
    assert got.stderr.startswith(f"error: cannot reach the orchestrator at {https}/api/v1/jobs/x")
    assert got.stderr.endswith(f"{hint}\n"), got.stderr
    proc = cluster.worker(Orchestrator(https, orch.proc, orch.log), "w-https")
    log = cluster.tmp / "worker-w-https.log"

    def warned() -> bool:
        return log.exists() and f"{hint}); retrying until it answers" in log.read_text()

    try:
        await wait_for(warned, 20, "the worker's warning about the scheme")
    finally:
        proc.kill()
        proc.wait()


@asynccontextmanager
async def _watching(
    orch: Orchestrator, job_id: str, stderr: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``jobs watch`` of a job waiting for a worker, once it has said so; killed on the way out
    if it still runs."""
    with stderr.open("wb") as err:
        watch = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "orchestrator", "jobs", "watch", job_id,
            "--url", orch.url, "--token", CLIENT_TOKEN,
            stdout=subprocess.PIPE, stderr=err, env=child_env(),
        )  # fmt: skip
    try:
        await wait_for(lambda: "waiting_for_worker" in stderr.read_text(), 20, "the watch")
        yield watch
    finally:
        if watch.returncode is None:
            watch.kill()
            await watch.wait()


async def test_jobs_watch_rides_out_a_redis_outage(tmp_path: Path, prefix: str) -> None:
    """A 503 while Redis is down is said once and asked again until it answers: the watch
    then follows the job to its end."""
    data = tmp_path / "redis"
    data.mkdir()
    server = RedisProcess(appendonly=True, dir=data).start()
    cluster = Cluster(server.url, prefix, tmp_path, tmp_path / "marks")
    stderr = tmp_path / "watch.err"
    try:
        orch = await cluster.orchestrator()
        async with aiohttp.ClientSession() as http:
            job_id = await Api(http, orch).create("echo", {"x": 2})  # no worker yet: it waits
        async with _watching(orch, job_id, stderr) as watch:
            server.kill()  # SIGKILL: the append-only file keeps the job
            said = "the orchestrator's storage is unavailable"
            await wait_for(lambda: said in stderr.read_text(), 30, "the watch to see the 503")
            assert watch.returncode is None, stderr.read_text()  # still watching
            server.start()
            cluster.worker(orch, "w-after-outage")
            out, _ = await asyncio.wait_for(watch.communicate(), 60)
        text = stderr.read_text()
        assert watch.returncode == 0, text
        assert orjson.loads(out)["result"]["echo"] == {"x": 2}
        assert text.count(said) == 1 and "503 STORAGE_UNAVAILABLE" in text, text
        assert "the orchestrator answers again" in text and "Traceback" not in text
    finally:
        cluster.stop_all()
        server.stop()


async def test_jobs_watch_rides_out_an_orchestrator_restart(cluster: Cluster) -> None:
    """The orchestrator SIGKILLed mid-watch and started again where it was: the watch says so
    once, asks again until it answers, and follows the job to its end."""
    orch = await cluster.orchestrator()
    port = int(orch.url.rsplit(":", 1)[1])
    async with aiohttp.ClientSession() as http:
        job_id = await Api(http, orch).create("echo", {"x": 3})  # no worker yet: it waits
    stderr = cluster.tmp / "watch-restart.err"
    async with _watching(orch, job_id, stderr) as watch:
        orch.proc.kill()
        orch.proc.wait()
        said = "the orchestrator is unavailable (cannot reach the orchestrator"
        await wait_for(lambda: said in stderr.read_text(), 30, "the watch to lose it")
        assert watch.returncode is None, stderr.read_text()  # still watching
        orch = await cluster.orchestrator(port=port)
        cluster.worker(orch, "w-after-restart")
        out, _ = await asyncio.wait_for(watch.communicate(), 60)
    text = stderr.read_text()
    assert watch.returncode == 0, text
    assert orjson.loads(out)["result"]["echo"] == {"x": 3}
    assert text.count(said) == 1 and "the orchestrator answers again" in text, text
    assert "Traceback" not in text
