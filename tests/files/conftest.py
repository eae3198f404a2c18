"""Fixtures for the S3 file tests: moto's S3 server as a real HTTP server, one bucket for the
session, and the app under test configured against it (one key prefix per test).

moto runs in a process of its own so that the objects it keeps never count in this process's
memory, which one test measures.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.api.conftest import Api, MakeApi, make_api, store_kind  # noqa: F401 (fixtures)
from tests.helpers import free_port

BUCKET = "orch-files-test"
REGION = "us-east-1"
KEY_ID = "testing"
SECRET = "testing"


@pytest.fixture(scope="session")
def s3_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/", timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not answer on {url}:\n{log.read_text()}")


@pytest.fixture(scope="session")
def s3(s3_url: str) -> Any:
    """A plain (sync) boto3 client on moto, for checks the API does not offer."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    client.create_bucket(Bucket=BUCKET)
    return client


def moto_settings(s3_url: str, prefix: str) -> dict[str, Any]:
    """Settings for S3 on moto at ``s3_url``, the keys under ``prefix``."""
    return {
        "s3_bucket": BUCKET,
        "s3_endpoint_url": s3_url,
        "s3_region": REGION,
        "s3_access_key_id": KEY_ID,
        "s3_secret_access_key": SECRET,
        "s3_key_prefix": f"jobs-{prefix}",
    }


@pytest.fixture
def s3_settings(s3: Any, s3_url: str, prefix: str) -> dict[str, Any]:
    """Settings for S3 on moto; keys of each test under a prefix of their own."""
    return moto_settings(s3_url, prefix)


@pytest.fixture
async def api(make_api: MakeApi, s3_settings: dict[str, Any]) -> Api:  # noqa: F811
    # The tests hold a task without heartbeats while they move megabytes through moto: the
    # api tests' one-second lease could end mid-upload on a loaded machine.
    return await make_api(**s3_settings, lease_s=60.0)
