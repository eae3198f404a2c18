"""Issue 7 §5: ordinary events (a client leaving, a malformed request, Redis down or a port
taken at start-up, a Redis outage) cost no traceback, no ERROR line and no 500."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.e2e.conftest import Api, Cluster, Orchestrator
from tests.helpers import ROOT, RedisProcess, child_env, free_port, spawn, wait_for

OUTAGE_S = 2.0
"""How long Redis stays down: the fault injected (many sweeps fail meanwhile), not a wait."""


def _problems(log: Path) -> list[str]:
    """Lines of an orchestrator log that must not be there for an ordinary event."""
    return [
        line
        for line in log.read_text().splitlines()
        if "Traceback" in line or " ERROR " in line or " CRITICAL " in line
    ]


async def _server_errors(http: aiohttp.ClientSession, orch: Orchestrator) -> list[str]:
    async with http.get(f"{orch.url}/_public/metrics") as r:
        text = await r.text()
    return re.findall(r'orchestrator_http_requests_total\{[^}]*status="5\d\d"[^}]*\} [1-9].*', text)


async def test_an_event_stream_client_leaving_is_not_an_error(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await cluster.orchestrator()
    api = Api(http, orch)
    job_id = await api.create("echo", {})  # no worker: it waits until cancelled
    path = f"/api/v1/jobs/{job_id}/events"
    reader, writer = await asyncio.open_connection("127.0.0.1", int(orch.url.rsplit(":", 1)[1]))
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Client-Token: {api.headers['X-Client-Token']}"
        "\r\n\r\n".encode()
    )
    await writer.drain()
    seen = b""
    while b"event: job_created" not in seen:
        chunk = await asyncio.wait_for(reader.read(4096), 10)
        assert chunk, f"the stream closed early: {seen!r}"
        seen += chunk
    writer.close()  # the client leaves, as `curl ... | head` or a closed tab does
    await writer.wait_closed()

    await api.cancel(job_id)  # the stream now has an event to write to the gone client
    await wait_for(lambda: f"GET {path} " in orch.log.read_text(), 10, "the stream's access line")

    assert _problems(orch.log) == []
    assert await _server_errors(http, orch) == []
    access = [line for line in orch.log.read_text().splitlines() if f"GET {path} " in line]
    assert " 200 " in access[0], access


async def test_an_inbox_stream_client_leaving_is_not_an_error(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await cluster.orchestrator(blueprints="orchestrator.examples.human_alerts")
    api = Api(http, orch)
    path = "/api/v1/human-tasks/events"
    reader, writer = await asyncio.open_connection("127.0.0.1", int(orch.url.rsplit(":", 1)[1]))
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Client-Token: {api.headers['X-Client-Token']}"
        "\r\n\r\n".encode()
    )
    await writer.drain()
    seen = b""
    while b"\r\n\r\n" not in seen:  # the headers: the stream is open, from now on
        chunk = await asyncio.wait_for(reader.read(4096), 10)
        assert chunk, f"the stream closed early: {seen!r}"
        seen += chunk
    assert seen.startswith(b"HTTP/1.1 200"), seen
    writer.close()  # the client leaves, as a closed tab does
    await writer.wait_closed()

    # A new work item: the stream now has an event to write to the gone client.
    await api.create("alert-reviews", {"alert_id": "a-1", "severity": "high"})
    await wait_for(lambda: f"GET {path} " in orch.log.read_text(), 10, "the stream's access line")

    assert _problems(orch.log) == []
    assert await _server_errors(http, orch) == []
    access = [line for line in orch.log.read_text().splitlines() if f"GET {path} " in line]
    assert " 200 " in access[0], access


async def test_a_malformed_header_is_one_line_not_an_error(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    orch = await cluster.orchestrator()
    port = int(orch.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /_public/status HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n")
        answer = s.recv(4096)
    assert answer.split(b" ", 2)[1] == b"400", answer

    def logged() -> list[str]:
        text = orch.log.read_text()
        return [line for line in text.splitlines() if "Error handling request" in line]

    lines = await wait_for(logged, 10, "the bad request to be logged")
    assert len(lines) == 1 and " INFO " in lines[0] and "answered 400" in lines[0], lines
    assert _problems(orch.log) == []


async def test_a_redis_outage_is_one_warning_per_loop_and_one_line_when_back(
    tmp_path: Path, prefix: str, http: aiohttp.ClientSession
) -> None:
    server = RedisProcess().start()
    cluster = Cluster(server.url, prefix, tmp_path, tmp_path / "marks")
    try:
        orch = await cluster.orchestrator()
        await Api(http, orch).create("echo", {})  # a task type for the sweeper to walk
        server.kill()
        await asyncio.sleep(OUTAGE_S)  # the outage itself (see OUTAGE_S)
        server.start()

        def loops(state: str) -> set[str]:
            found = re.findall(
                rf"orchestrator\.loops \[-\] (.+?): storage {state}", orch.log.read_text()
            )
            return set(found)

        def back() -> bool:
            # The sweeper reads Redis on every tick; other loops (the stats flush) only when
            # they have something to write, so they may or may not have met the outage.
            return "sweeper" in loops("is back") and loops("unreachable") == loops("is back")

        await wait_for(back, 10, "the loops to log that storage is back")
        lines = orch.log.read_text().splitlines()
        for loop in loops("unreachable"):
            down = [line for line in lines if f"{loop}: storage unreachable" in line]
            up = [line for line in lines if f"{loop}: storage is back" in line]
            assert len(down) == 1 and " WARNING " in down[0], down
            assert len(up) == 1 and " INFO " in up[0], up
        assert not [line for line in lines if "Traceback" in line]
    finally:
        cluster.stop_all()
        server.stop()


def _serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "serve", "--dev", *args],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_serve_with_redis_unreachable_says_so_in_one_line(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    done = _serve(tmp_path, "--redis-url", f"redis://:hunter2-secret@127.0.0.1:{port}/0")

    line = _one_error_line(done)
    assert f"cannot use Redis at 127.0.0.1:{port}/0" in line
    assert "--redis-url" in line and "hunter2" not in done.stderr


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _serve(tmp_path, "--port", str(port))

    line = _one_error_line(done)
    assert f"cannot listen on 127.0.0.1:{port}: address already in use" in line
    assert "--port" in line


def test_graph_into_a_closed_pipe_stops_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written, as `| head` may be
    try:
        done = subprocess.run(
            [sys.executable, "-m", "orchestrator", "graph", "echo"]
            + ["--blueprints", "tests.e2e.blueprints"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
            cwd=ROOT,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 1


async def test_serve_on_port_0_names_the_port_it_listens_on(tmp_path: Path) -> None:
    log = tmp_path / "orchestrator.log"
    proc = spawn(["-m", "orchestrator", "serve", "--dev", "--port", "0"], log)
    try:
        said = await wait_for(
            lambda: re.search(r"listening on http://127\.0\.0\.1:(\d+)", log.read_text()),
            30,
            "the listening line",
        )
        port = int(said.group(1))
        assert port != 0
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/_public/status") as r,
        ):
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(30)
