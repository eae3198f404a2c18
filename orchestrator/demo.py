"""``orchestrator demo``: seed 001's alert process end to end. An orchestrator on the embedded
store serves ``orchestrator.blueprints.alerts``, the example investigation worker runs as its
own process; an alert is raised, acknowledged (a second acknowledgement is refused), handed to
the investigation, and printed RESOLVED with its findings."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from orchestrator.api.protocol import JsonErrorsRunner
from orchestrator.client_cli import ApiError, wait_for_end
from orchestrator.config import DEV_CLIENT_TOKEN, DEV_WORKER_TOKEN
from orchestrator.config_sources import load_settings
from orchestrator.server import build_app

DEMO_TIMEOUT_S = 60.0
WORKER_ID = "demo-worker"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _say(text: str) -> None:
    # One write, newline included: the worker shares this stderr, and print's two writes
    # (text, then newline) let its log lines land in between when stderr is unbuffered.
    sys.stderr.write(f"[demo] {text}\n")
    sys.stderr.flush()


async def _seed_call(
    http: aiohttp.ClientSession, method: str, url: str, body: Any = None
) -> tuple[int, dict[str, Any]]:
    """A call to a seed-shaped route: its errors are ``{"error": "..."}``, not the envelope."""
    data = orjson.dumps(body) if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    async with http.request(method, url, data=data, headers=headers) as resp:
        payload = orjson.loads(await resp.read() or b"{}")
    return resp.status, payload if isinstance(payload, dict) else {"value": payload}


async def _worker_up(http: aiohttp.ClientSession, base: str, worker: Any) -> None:
    """Wait until the worker has registered, so the alert's task never waits for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEMO_TIMEOUT_S
    while True:
        status, listed = await _seed_call(http, "GET", f"{base}/api/v1/workers")
        if status == 200 and any(w["worker_id"] == WORKER_ID for w in listed["value"]):
            return
        if worker.returncode is not None:
            raise ApiError(f"the worker process exited with status {worker.returncode}")
        if loop.time() > deadline:
            raise ApiError(f"the worker did not register within {DEMO_TIMEOUT_S:.0f}s")
        await asyncio.sleep(0.1)


async def _alert_process(http: aiohttp.ClientSession, base: str, title: str) -> dict[str, Any]:
    """Raise an alert, acknowledge it as compliance would, wait for the investigation."""
    alert = {
        "severity": "high",
        "title": title,
        "entity": {"id": "ent-42", "name": "ACME Ltd"},
        "details": {"amount": 250000, "currency": "EUR"},
    }
    status, raised = await _seed_call(http, "POST", f"{base}/api/v1/alerts", alert)
    if status != 202:
        raise ApiError(f"POST /api/v1/alerts answered {status}: {raised}")
    alert_id = raised["alertId"]
    _say(
        f"POST /api/v1/alerts -> alert {alert_id} is {raised['status']}: it waits for the "
        "compliance role to acknowledge or dismiss it"
    )
    ack = f"{base}/api/v1/alerts/{alert_id}/acknowledge"
    status, answer = await _seed_call(http, "POST", ack, {"actor": "demo-compliance-officer"})
    if status != 200:
        raise ApiError(f"POST .../acknowledge answered {status}: {answer}")
    _say(f"POST /api/v1/alerts/{alert_id}/acknowledge -> {status} {orjson.dumps(answer).decode()}")
    status, again = await _seed_call(http, "POST", ack)
    _say(f"acknowledged again -> {status} {orjson.dumps(again).decode()} (refused, as it should)")
    _say("the alert.investigate task goes to the worker; waiting for the alert to end")
    await wait_for_end(http, base, alert_id, echo=True, timeout_s=DEMO_TIMEOUT_S)
    status, shown = await _seed_call(http, "GET", f"{base}/api/v1/alerts/{alert_id}")
    if status != 200:
        raise ApiError(f"GET /api/v1/alerts/{alert_id} answered {status}: {shown}")
    return shown


async def run_demo(title: str) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings(
        {},
        None,
        port=port,
        dev_mode=True,
        blueprints=("orchestrator.blueprints.alerts",),
        poll_timeout_s=5.0,
    )
    runner = JsonErrorsRunner(build_app(settings), shutdown_timeout=1.0, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    _say(f"orchestrator up at {base} (embedded store, blueprint 'alerts': seed 001)")
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker_sdk",
        "run",
        "orchestrator.blueprints.workers.investigator:worker",
        "--url",
        base,
        "--token",
        DEV_WORKER_TOKEN,
        "--worker-id",
        WORKER_ID,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    _say(f"alert investigation worker started as its own process (pid {worker.pid})")
    try:
        # the seed's clients send their key as a Bearer token
        auth = {"Authorization": f"Bearer {DEV_CLIENT_TOKEN}"}
        async with aiohttp.ClientSession(headers=auth) as http:
            await _worker_up(http, base, worker)
            _say(f"worker {WORKER_ID} registered for alert.investigate")
            alert = await _alert_process(http, base, title)
    except ApiError as exc:
        _say(f"failed: {exc}")
        return 1
    finally:
        if worker.returncode is None:
            # The worker logs "SIGTERM received": say first that it is us, so the line reads
            # as the demo tidying up, not as something going wrong.
            _say("stopping the demo's worker (its 'SIGTERM received' line is this stop)")
            worker.terminate()
        await worker.wait()
        await runner.cleanup()
    print(orjson.dumps(alert, option=orjson.OPT_INDENT_2).decode(), flush=True)
    if alert["status"] != "RESOLVED":
        _say(f"the alert ended {alert['status']}: {alert.get('error')}")
        return 1
    _say(
        f"success: alert {alert['alertId']} RESOLVED with the investigation's findings "
        "(above), and the demo stopped cleanly. Next: docs/processes.md"
    )
    return 0
