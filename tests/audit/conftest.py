"""One set of real processes for the audit tests: an orchestrator serving the
audit blueprints on the test Redis (S3 on moto, for attachments), the three example
workers as their own processes (the store, the e-mail sender, the notifier with its API),
and an aiosmtpd server in this process that the sender speaks SMTP to.

The processes are shared by the tests of the session (starting them takes seconds); each
test uses its own audits and notification users, or undoes what it changes.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis

from orchestrator.blueprints.audit.validate import NOTIFY_WAIT_VAR
from tests.audit import data
from tests.audit.smtp import SmtpServer
from tests.files.conftest import BUCKET, KEY_ID, REGION, SECRET, s3, s3_url  # noqa: F401
from tests.helpers import ROOT, free_port, spawn

# The tokens of ``orchestrator serve --dev``, which docs/processes.md's examples use.
CLIENT = "dev-client-token"
WORKER = "dev-worker-token"
CONFIG = f"""
clients:
  - {{name: audits, token: {CLIENT}}}
workers:
  token: {WORKER}
sweep_interval_s: 0.1
lease_s: 2.0
heartbeat_interval_s: 0.5
poll_timeout_s: 2.0
"""
BLUEPRINTS = "orchestrator.blueprints.audit"
EXAMPLE_STORE = ROOT / "orchestrator" / "blueprints" / "audit" / "example_store.json"
STORE = "orchestrator.blueprints.workers.audit_store:worker"
MAILER = "orchestrator.blueprints.workers.mailer:worker"
NOTIFIER = "orchestrator.blueprints.workers.notifier"
NO_NOTIFIER_WAIT_S = 1.0
"""How long a validation waits for the notifier that ``no_notifier_env`` never starts."""


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until true (the fixture is not async: it serves a whole module)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _answers(url: str, headers: dict[str, str] | None = None) -> Any:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as r:
            return json.loads(r.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


@dataclass
class AuditEnv:
    redis_url: str
    prefix: str
    tmp: Path
    smtp: SmtpServer
    s3_url: str
    store_path: Path = field(init=False)
    url: str = ""
    notifier_url: str = ""
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    orchestrator_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.store_path = self.tmp / "audits.json"
        # The store file the docs ship (its records are ``data``'s; test_units checks it).
        shutil.copy(EXAMPLE_STORE, self.store_path)

    @property
    def notifier_prefix(self) -> str:
        return f"{self.prefix}:notifications"

    def _spawn(self, args: list[str], name: str, **env: str) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{name}.log"
        proc = spawn(args, log, **env)
        self.procs.append(proc)
        return proc

    def start_orchestrator(self) -> None:
        port = free_port()
        config = self.tmp / "orchestrator.yaml"
        config.write_text(CONFIG)
        args = ["-m", "orchestrator", "serve", "--port", str(port), "--config", str(config)]
        args += ["--redis-url", self.redis_url, "--prefix", self.prefix, "--blueprints", BLUEPRINTS]
        proc = self._spawn(
            args,
            "orchestrator",
            ORCH_S3_BUCKET=BUCKET,
            ORCH_S3_ENDPOINT_URL=self.s3_url,
            ORCH_S3_REGION=REGION,
            ORCH_S3_ACCESS_KEY_ID=KEY_ID,
            ORCH_S3_SECRET_ACCESS_KEY=SECRET,
            **self.orchestrator_env,
        )
        self.url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert proc.poll() is None, (self.tmp / "orchestrator.log").read_text()
            return _answers(f"{self.url}/_public/status") is not None

        _wait(up, 20, "the orchestrator to answer /_public/status")

    def start_workers(self, *, notifier: bool = True) -> None:
        common = {"ORCH_URL": self.url, "ORCH_WORKER_TOKEN": WORKER}
        run = ["-m", "worker_sdk", "run"]
        self._spawn(
            [*run, STORE],
            "store",
            WORKER_ID="store",
            AUDIT_STORE_PATH=str(self.store_path),
            **common,
        )
        self._spawn(
            [*run, MAILER],
            "mailer",
            WORKER_ID="mailer",
            WORKER_CAPACITY="8",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(self.smtp.port),
            SMTP_FROM="auditorias@empresa.com",
            SMTP_BCC=",".join(data.BCC),
            **common,
        )
        if not notifier:
            _wait(lambda: self._workers_up({"store", "mailer"}), 20, "the workers to register")
            return
        notifier_port = free_port()
        self._spawn(
            ["-m", NOTIFIER],
            "notifier",
            WORKER_ID="notifier",
            NOTIFIER_PORT=str(notifier_port),
            NOTIFIER_REDIS_URL=self.redis_url,
            NOTIFIER_PREFIX=self.notifier_prefix,
            **common,
        )
        self.notifier_url = f"http://127.0.0.1:{notifier_port}"
        _wait(
            lambda: (
                self._workers_up({"store", "mailer", "notifier"})
                and _answers(f"{self.notifier_url}/notifications") is not None
            ),
            20,
            "the store, mailer and notifier workers to register",
        )

    def _workers_up(self, wanted: set[str]) -> bool:
        for proc in self.procs:
            assert proc.poll() is None, f"a process exited: {proc.args}"
        workers = _answers(f"{self.url}/api/v1/workers", {"X-Client-Token": CLIENT}) or []
        return wanted <= {w.get("worker_id") for w in workers}

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
        client = redis.Redis.from_url(self.redis_url)
        try:
            keys = list(client.scan_iter(match=f"{self.prefix}:*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


@pytest.fixture(scope="session")
def audit_env(
    redis_url: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AuditEnv]:
    request.getfixturevalue("s3")  # the bucket exists before the orchestrator starts
    moto_url = request.getfixturevalue("s3_url")
    prefix = f"audit{time.monotonic_ns() % 10**9}"
    with SmtpServer() as smtp:
        env = AuditEnv(redis_url, prefix, tmp_path_factory.mktemp("audit"), smtp, moto_url)
        try:
            env.start_orchestrator()
            env.start_workers()
            yield env
        finally:
            env.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def no_notifier_env(
    redis_url: str, prefix: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[AuditEnv]:
    """Processes of one test, with every worker but the notifier."""
    request.getfixturevalue("s3")
    with SmtpServer() as smtp:
        env = AuditEnv(redis_url, prefix, tmp_path, smtp, request.getfixturevalue("s3_url"))
        # Short, so the wait for a notifier that never comes does not hold the suite up.
        env.orchestrator_env[NOTIFY_WAIT_VAR] = str(NO_NOTIFIER_WAIT_S)
        try:
            env.start_orchestrator()
            env.start_workers(notifier=False)
            yield env
        finally:
            env.stop()
