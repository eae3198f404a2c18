"""The app on a real loopback port over real Redis, for the schemathesis run.

The app runs in a child process (``served.py``) and the test talks to it over HTTP like any
client; seeded with real resources for the fuzzer to hit.
"""

from __future__ import annotations

import ast
import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.api.conftest import (
    CLIENT_TOKEN,
    OTHER_CLIENT_TOKEN,
    WORKER_TOKEN,
    api,
    make_api,
    store_kind,
)
from tests.conftest import delete_prefix
from tests.files.conftest import moto_settings, s3, s3_url
from tests.helpers import ROOT, free_port

# fixtures shared with tests/api (the app behind a test client) and tests/files (moto's S3)
__all__ = ["api", "make_api", "s3", "s3_url", "store_kind"]

FUZZ_WORKER = "fuzz-worker"
"""Registered; its heartbeats are fuzzed (which may change its skills)."""
POLLER = "fuzz-poller"
"""Registered; polls for tasks, and holds one from the start."""
FILENAME = "report.txt"
"""A file stored for the job of the held task."""


class ServedApp:
    """``create_app`` on 127.0.0.1 in a child process (``tests/openapi/served.py`` says why
    not a thread of this one)."""

    def __init__(self, overrides: dict[str, Any], redis_url: str, prefix: str, logs: Path):
        self.overrides, self.redis_url, self.prefix = overrides, redis_url, prefix
        self.url = f"http://127.0.0.1:{free_port()}"
        self._status_log = logs / "statuses.log"
        self._output = logs / "server.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def statuses(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every response the server prepared, streams included."""
        if not self._status_log.exists():
            return []
        rows = []
        for line in self._status_log.read_text().splitlines():
            method, rest = line.split(" ", 1)
            path, status = rest.rsplit(" ", 1)
            rows.append((method, ast.literal_eval(path), int(status)))
        return rows

    def __enter__(self) -> ServedApp:
        port = self.url.rsplit(":", 1)[1]
        args = [port, self.redis_url, self.prefix, json.dumps(self.overrides)]
        with self._output.open("wb") as output:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "tests.openapi.served", *args, str(self._status_log)],
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while not self._answers():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"the app did not start:\n{self._output.read_text()}")
            time.sleep(0.05)  # polling a condition with a deadline, not waiting for luck
        return self

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/_public/status", timeout=1).ok
        except requests.ConnectionError:
            return False

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
        asyncio.run(delete_prefix(self.redis_url, self.prefix))


@dataclass
class Seeded:
    """Real resources for the fuzzer to hit, besides the ids it makes up."""

    live_jobs: list[str] = field(default_factory=list)
    ended_jobs: list[str] = field(default_factory=list)
    other_clients_job: str = ""
    approval_tokens: dict[str, str] = field(default_factory=dict)
    """Job waiting for a person → its approval token."""
    held: dict[str, str] = field(default_factory=dict)
    """``job_id``, ``task_id`` and ``worker_id`` of a task leased to ``POLLER``."""

    @property
    def jobs(self) -> list[str]:
        return [*self.live_jobs, *self.ended_jobs, self.other_clients_job]


def seed(url: str) -> Seeded:
    session = requests.Session()
    session.headers["X-Client-Token"] = CLIENT_TOKEN
    worker = {"X-Worker-Token": WORKER_TOKEN}

    def call(method: str, path: str, **kwargs: Any) -> Any:
        resp = session.request(method, f"{url}{path}", timeout=10, **kwargs)
        assert resp.ok, (path, resp.status_code, resp.text)
        return resp.json()

    def create(endpoint: str, data: dict[str, Any], **kwargs: Any) -> str:
        body = {"initial_data": data}
        return str(call("POST", f"/api/v1/{endpoint}", json=body, **kwargs)["job_id"])

    for worker_id in (FUZZ_WORKER, POLLER):
        body = {"worker_id": worker_id, "supported_skills": ["greet", "review"]}
        call("POST", "/_worker/workers/register", json=body, headers=worker)
    seeded = Seeded()
    seeded.live_jobs += [create("greeting", {"name": "Ada"}) for _ in range(3)]
    task = call("GET", f"/_worker/workers/{POLLER}/tasks/next?timeout=1", headers=worker)
    seeded.held = {"job_id": task["job_id"], "task_id": task["task_id"], "worker_id": POLLER}
    call("PUT", f"/api/v1/jobs/{task['job_id']}/files/content/{FILENAME}", data=b"seeded")
    seeded.ended_jobs.append(create("greeting", {}))  # fails at once: MISSING_FIELDS
    cancelled = create("review", {})
    call("POST", f"/api/v1/jobs/{cancelled}/cancel")
    seeded.ended_jobs.append(cancelled)
    for _ in range(3):
        job_id = create("approval", {})
        seeded.approval_tokens[job_id] = call("GET", f"/api/v1/jobs/{job_id}")["approval"]["token"]
        seeded.live_jobs.append(job_id)
    bob = {"X-Client-Token": OTHER_CLIENT_TOKEN}
    seeded.other_clients_job = create("greeting", {"name": "Bob"}, headers=bob)
    return seeded


@pytest.fixture
def s3_settings(s3: Any, s3_url: str, prefix: str) -> dict[str, Any]:
    """Settings of an app that stores its files in moto's S3, under this test's prefix."""
    return moto_settings(s3_url, prefix)


@pytest.fixture(scope="module")
def served(
    redis_url: str, s3: Any, s3_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedApp]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    overrides = {
        "poll_timeout_s": 0.2,
        "lease_s": 300.0,  # the seeded task stays held through the run
        "max_body_bytes": 64 * 1024,
        **moto_settings(s3_url, prefix),
    }
    with ServedApp(overrides, redis_url, prefix, tmp_path_factory.mktemp("served")) as app:
        yield app
    errors = [s for s in app.statuses if s[2] >= 500 and s[2] != 503]
    assert not errors, f"requests answered with a server error: {errors}"


@pytest.fixture(scope="module")
def seeded(served: ServedApp) -> Seeded:
    return seed(served.url)
