"""A 200 MiB upload streams through a real orchestrator process without being held in memory.

The orchestrator runs as its own process (configured for S3 through ``ORCH_S3_*`` variables)
so that its peak RSS (``VmHWM`` in ``/proc/<pid>/status``) measures the server alone: not the
client that makes the bytes, nor moto that stores them.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import delete_prefix
from tests.files.bodies import chunks
from tests.files.conftest import BUCKET, KEY_ID, REGION, SECRET
from tests.helpers import free_port, spawn, wait_for

MiB = 1024 * 1024
SIZE = 200 * MiB
MAX_GROWTH = 60 * MiB
TOKEN = "big-client"
CONFIG = f"""
clients:
  - {{name: big, token: {TOKEN}}}
workers:
  token: big-worker
"""

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads peak RSS from /proc (Linux)"
)


def peak_rss(pid: int) -> int:
    """Bytes: the process's resident set high-water mark."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


@pytest.fixture
def orchestrator(
    redis_url: str, prefix: str, s3: Any, s3_url: str, tmp_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    config = tmp_path / "orchestrator.yaml"
    config.write_text(CONFIG)
    log = tmp_path / "orchestrator.log"
    env = {
        "ORCH_S3_BUCKET": BUCKET,
        "ORCH_S3_ENDPOINT_URL": s3_url,
        "ORCH_S3_REGION": REGION,
        "ORCH_S3_ACCESS_KEY_ID": KEY_ID,
        "ORCH_S3_SECRET_ACCESS_KEY": SECRET,
        "ORCH_S3_KEY_PREFIX": f"jobs-{prefix}",
    }
    args = ["-m", "orchestrator", "serve", "--port", str(port), "--redis-url", redis_url]
    args += ["--prefix", prefix, "--config", str(config), "--blueprints", "tests.e2e.blueprints"]
    proc = spawn(args, log, **env)
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.returncode not in (0, -15):
            print(log.read_text())


@pytest.fixture
async def http(redis_url: str, prefix: str) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"X-Client-Token": TOKEN}) as session:
        yield session
    await delete_prefix(redis_url, prefix)


class Hashing:
    """Hashes the bytes of a body while it is being sent."""

    def __init__(self, source: AsyncIterator[bytes]) -> None:
        self.source = source
        self.digest = hashlib.sha256()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for piece in self.source:
            self.digest.update(piece)
            yield piece


@pytest.mark.timeout(120)
async def test_200_mib_stream_through_without_growing_the_servers_memory(
    orchestrator: tuple[str, subprocess.Popen[bytes]], http: aiohttp.ClientSession, s3: Any
) -> None:
    base, proc = orchestrator

    async def up() -> bool:
        assert proc.poll() is None, "the orchestrator exited"
        try:
            async with http.get(f"{base}/_public/status") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    await wait_for(up, 20, "orchestrator to answer")
    async with http.post(f"{base}/api/v1/echo", json={"initial_data": {}}) as r:
        assert r.status == 202, await r.text()
        job_id = (await r.json())["job_id"]
    url = f"{base}/api/v1/jobs/{job_id}/files/content"
    started = peak_rss(proc.pid)
    # Warm up the multipart path (botocore loads its models lazily), then take the baseline.
    async with http.put(f"{url}/warm.bin", data=chunks(9 * MiB)) as r:
        assert r.status == 200, await r.text()
    before = peak_rss(proc.pid)

    body = Hashing(chunks(SIZE, seed=b"big"))
    # A declared length far over max_body_bytes (1 MiB by default) must still be let through.
    headers = {"Content-Length": str(SIZE), "Content-Type": "application/octet-stream"}
    async with http.put(f"{url}/big.bin", data=body.__aiter__(), headers=headers) as r:
        assert r.status == 200, await r.text()
        answer = await r.json()
    after = peak_rss(proc.pid)
    growth = after - before

    print(
        f"\npeak RSS: {started / MiB:.1f} MiB at start, {before / MiB:.1f} after a 9 MiB "
        f"warm-up upload, {after / MiB:.1f} after {SIZE // MiB} MiB: "
        f"+{growth / MiB:.1f} MiB for the big upload, +{(after - started) / MiB:.1f} in all"
    )
    assert growth < MAX_GROWTH, f"peak RSS grew {growth / MiB:.1f} MiB for {SIZE // MiB} MiB"
    assert after - started < MAX_GROWTH, "one part and the S3 client should be all it costs"
    expected = body.digest.hexdigest()
    assert (answer["size"], answer["sha256"]) == (SIZE, expected)
    key = answer["s3_uri"].split("/", 3)[3]
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == SIZE
    assert head["ETag"].strip('"').endswith("-25"), "expected 25 parts of 8 MiB"
    async with http.get(
        f"{base}/api/v1/jobs/{job_id}/files/download/big.bin", allow_redirects=False
    ) as r:
        assert r.status == 302
        assert r.headers["Location"].startswith(f"{s3.meta.endpoint_url}/")
    # The same bytes through the orchestrator (?via=orchestrator), streamed: read from S3 as
    # they are sent, so its memory does not grow with the file either.
    stored = hashlib.sha256()
    async with http.get(
        f"{base}/api/v1/jobs/{job_id}/files/download/big.bin", params={"via": "orchestrator"}
    ) as r:
        assert r.status == 200, await r.text()
        async for piece in r.content.iter_chunked(MiB):
            stored.update(piece)
    assert stored.hexdigest() == expected
    sent = peak_rss(proc.pid)
    print(f"peak RSS {sent / MiB:.1f} MiB after sending the {SIZE // MiB} MiB back")
    assert sent - after < MAX_GROWTH, f"peak RSS grew {(sent - after) / MiB:.1f} MiB sending it"
