"""Issue 7 §5: `worker run` against no orchestrator, or a bad URL, says so in one line that
names the setting to fix, and never prints a traceback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


async def _spawn(url: str) -> asyncio.subprocess.Process:
    env = os.environ | {"ORCH_URL": url, "ORCH_WORKER_TOKEN": "t", "WORKER_ID": "cli-2"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker_sdk",
        "run",
        "orchestrator.examples.echo_worker:worker",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_no_orchestrator_is_one_line_naming_the_url_setting() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    proc = await _spawn(url)
    seen: list[str] = []
    try:
        async with asyncio.timeout(10):  # the first attempt fails at once: connection refused
            while not any("cannot register" in line for line in seen):
                assert proc.stderr is not None
                line = (await proc.stderr.readline()).decode()
                assert line, f"the worker exited: {''.join(seen)}"
                seen.append(line)
        # It keeps trying (an orchestrator may start after its workers) until stopped.
        proc.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(proc.communicate(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = "".join(seen) + rest.decode()
    failure = [line for line in text.splitlines() if "cannot register" in line]
    assert len(failure) == 1, text
    assert url in failure[0] and "--url / ORCH_URL" in failure[0]
    assert "Traceback" not in text


async def test_a_bad_url_is_one_line_and_exit_2() -> None:
    proc = await _spawn("ftp://orchestrator")
    _, stderr = await asyncio.wait_for(proc.communicate(), 10)
    text = stderr.decode()
    assert proc.returncode == 2, text
    assert len(text.strip().splitlines()) == 1, text
    assert "'ftp://orchestrator'" in text and "--url / ORCH_URL" in text
