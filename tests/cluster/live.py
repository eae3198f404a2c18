"""A live Redis Cluster for tests: 3 primaries and 3 replicas on free loopback ports.

Started from the Debian ``redis-server`` binary and joined with ``redis-cli --cluster create``,
so the tests exercise real slot routing, MOVED redirects and real failovers, not a mock.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import free_port

NODE_TIMEOUT_MS = 2000
"""Low, so a killed primary's replica is promoted within seconds, keeping the failover test
short (Redis's default is 15 s)."""


def _command(port: int, *args: str, timeout: float = 0.5) -> str:
    """One RESP command over a raw socket: no client library between the test and the node."""
    payload = f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload.encode())
        chunks = b""
        while True:
            chunk = s.recv(65536)
            chunks += chunk
            # a bulk reply is complete once its announced length has arrived
            if chunks.startswith(b"$") and b"\r\n" in chunks:
                size = int(chunks[1 : chunks.index(b"\r\n")])
                if size < 0 or len(chunks) >= chunks.index(b"\r\n") + 2 + size + 2:
                    break
            elif chunks.endswith(b"\r\n") or not chunk:
                break
    return chunks.decode(errors="replace")


@dataclass
class LiveCluster:
    dir: Path
    ports: list[int] = field(default_factory=list)
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The orchestrator's cluster URL: every node as a seed."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def start(self, nodes: int = 6) -> LiveCluster:
        cli = shutil.which("redis-cli")
        assert cli is not None
        self.ports = [self._start_node() for _ in range(nodes)]
        subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports)]
            + ["--cluster-replicas", "1", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        for port in self.ports:
            self._wait(lambda p=port: self.state_ok(p), 30, f"cluster_state:ok on {port}")
        # A replica's first sync starts seconds later (diskless, after a delay): until it has
        # loaded its primary's data, a failover would lose that data, whatever the offsets say.
        for port in self.ports:
            self._wait(lambda p=port: self.synced(p), 30, f"{port} to finish its first sync")
        return self

    def _start_node(self, tries: int = 3) -> int:
        """A node on a fresh port, answering PING. A node whose port was taken between our
        check and its bind exits at once: it is started again on another port."""
        server = shutil.which("redis-server")
        assert server is not None
        for _ in range(tries):
            port = free_port()
            proc = subprocess.Popen(
                [
                    server,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    str(self.dir / f"nodes-{port}.conf"),
                    # its own free port: the default (port + 10000) may be taken or too high
                    "--cluster-port",
                    str(free_port()),
                    "--cluster-node-timeout",
                    str(NODE_TIMEOUT_MS),
                    "--dir",
                    str(self.dir),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    # the replicas' first sync at once, not after the default 5 s wait
                    "--repl-diskless-sync-delay",
                    "0",
                    "--logfile",
                    str(self.dir / f"redis-{port}.log"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self._wait(
                lambda p=port, proc=proc: proc.poll() is not None or self._answers(p),
                30,
                f"node {port} to start",
            )
            if proc.poll() is None:
                self.procs[port] = proc
                return port
        raise AssertionError(f"no cluster node started in {tries} tries:\n{self._log(port)}")

    def synced(self, port: int) -> bool:
        info = _command(port, "INFO", "replication")
        return "role:master" in info or "master_link_status:up" in info

    def _answers(self, port: int) -> bool:
        try:
            return _command(port, "PING").startswith("+PONG")
        except OSError:
            return False

    def state_ok(self, port: int) -> bool:
        try:
            return "cluster_state:ok" in _command(port, "CLUSTER", "INFO")
        except OSError:
            return False

    def role(self, port: int) -> str:
        return "master" if "role:master" in _command(port, "INFO", "replication") else "slave"

    def primaries(self) -> list[int]:
        return [p for p in self.ports if p in self.procs and self.role(p) == "master"]

    def replica_of(self, primary: int) -> int:
        for port in self.ports:
            if port in self.procs and port != primary:
                info = _command(port, "INFO", "replication")
                if f"master_port:{primary}" in info:
                    return port
        raise AssertionError(f"no replica of {primary}")

    def offset(self, port: int) -> int:
        info = _command(port, "INFO", "replication")
        return int(info.split("master_repl_offset:", 1)[1].split("\r\n", 1)[0])

    def quiesce(self, primary: int, replica: int, timeout: float) -> None:
        """Pauses writes on ``primary`` and waits until ``replica`` has all of them. Redis
        replicates asynchronously: a write acknowledged just before a crash may be lost (see
        docs/guarantees.md). Killed after this, the primary takes no acknowledged write with
        it, so a test sees what the orchestrator does, not that window."""
        assert _command(primary, "CLIENT", "PAUSE", "60000", "WRITE").startswith("+OK")
        target = self.offset(primary)
        self._wait(
            lambda: self.synced(replica) and self.offset(replica) >= target,
            timeout,
            f"{replica} to catch up",
        )

    def kill(self, port: int) -> None:
        """SIGKILL: the node gets no chance to hand over, as in a crash."""
        proc = self.procs.pop(port)
        proc.kill()
        proc.wait()

    def wait_promoted(self, port: int, timeout: float) -> None:
        self._wait(lambda: self.role(port) == "master", timeout, f"{port} to be promoted")
        for other in self.procs:
            self._wait(lambda p=other: self.state_ok(p), timeout, f"cluster_state:ok on {other}")

    def elected(self) -> list[int]:
        """Nodes that won a failover election since the cluster started."""
        return [p for p in self.ports if "Failover election won" in self._log(p)]

    def failover_log(self) -> str:
        """Every node's lines about failures and elections, for a failure message."""
        words = ("failing", "FAIL message", "election", "Failover", "sync", "MASTER", "master")
        return "\n".join(
            f"{port}: {line}"
            for port in self.ports
            for line in self._log(port).splitlines()
            if any(w in line for w in words)
        )

    def _log(self, port: int) -> str:
        path = self.dir / f"redis-{port}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.kill()
            proc.wait()
        self.procs.clear()

    @staticmethod
    def _wait(check: object, timeout: float, what: str) -> None:
        assert callable(check)
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.05)


def start_cluster() -> Iterator[LiveCluster]:
    """Starts a cluster in a temporary directory; skips (saying why) without the binaries."""
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip(
            "Redis Cluster tests need redis-server and redis-cli "
            "(apt-get install redis-server; .ci/run installs it)"
        )
    with tempfile.TemporaryDirectory(prefix="orch-cluster-") as tmp:
        cluster = LiveCluster(Path(tmp))
        try:
            yield cluster.start()
        finally:
            cluster.stop()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LiveCluster]:
    """One cluster for the whole session (starting one takes a few seconds). Tests must not
    kill its nodes: the failover test starts a cluster of its own."""
    yield from start_cluster()
