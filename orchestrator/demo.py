"""``orchestrator demo``: an orchestrator on the embedded store, the example worker as its own
process, one sample job end to end, its result printed."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys

import aiohttp
import orjson
from aiohttp import web

from orchestrator.client_cli import ApiError, wait_for_end
from orchestrator.config import DEV_CLIENT_TOKEN, DEV_WORKER_TOKEN, load_settings
from orchestrator.server import build_app

DEMO_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _say(text: str) -> None:
    print(f"[demo] {text}", file=sys.stderr, flush=True)


async def run_demo(name: str) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings(
        {},
        None,
        port=port,
        dev_mode=True,
        blueprints=("orchestrator.examples.greeting",),
        poll_timeout_s=5.0,
    )
    runner = web.AppRunner(build_app(settings), shutdown_timeout=1.0, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    _say(f"orchestrator up at {base} (embedded store, blueprint 'greeting')")
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker_sdk",
        "run",
        "orchestrator.examples.greeting_worker:worker",
        "--url",
        base,
        "--token",
        DEV_WORKER_TOKEN,
        "--worker-id",
        "demo-worker",
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    _say(f"worker process started (pid {worker.pid})")
    try:
        async with aiohttp.ClientSession(headers={"X-Client-Token": DEV_CLIENT_TOKEN}) as http:
            body = orjson.dumps({"initial_data": {"name": name}})
            async with http.post(
                f"{base}/api/v1/greeting", data=body, headers={"Content-Type": "application/json"}
            ) as resp:
                created = await resp.json()
            _say(f"job {created['job_id']} accepted; waiting for it to finish")
            job_id = created["job_id"]
            job = await wait_for_end(http, base, job_id, echo=True, timeout_s=DEMO_TIMEOUT_S)
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
    print(orjson.dumps(job, option=orjson.OPT_INDENT_2).decode(), flush=True)
    if job["status"] != "finished":
        _say(f"the job ended {job['status']}: {job.get('error')}")
        return 1
    _say(
        f"success: job {job_id} finished (result above), and the demo stopped cleanly. "
        "Next: README.md, 'Running it yourself'"
    )
    return 0
