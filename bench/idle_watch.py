"""``Watch``: samples the orchestrator from a thread of its own during the idle benchmark.

During the burst the benchmark's event loop is busy with 10,000 clients: a sample taken on it
waits its turn, so its time says little about when the orchestrator parked the polls. And a
costly sample holds every client back: counting the orchestrator's sockets to Redis through
``/proc`` (its 10,000 fds, and the 20,000 rows of ``/proc/net/tcp``) took 0.1-0.2 s, every 0.1 s,
and was two thirds of the benchmark's CPU. Here the Redis connections are counted by Redis
(``CLIENT LIST``, the benchmark's own connections named ``OWN`` and left out), which costs
nothing, and the samples run on a thread, timed on the same ``perf_counter`` as the clients.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis

OWN = "bench-idle"
"""Client name of the benchmark's own Redis connections (left out of the count)."""


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Watch(threading.Thread):
    """Every ``every_s``: the orchestrator's RSS and Redis connections (the last and the most
    since ``reset``) and, while ``follow`` is on, its ``parked_polls`` (kept in ``server``)."""

    def __init__(self, base: str, pid: int, redis_url: str, every_s: float = 0.1) -> None:
        super().__init__(name="idle-watch", daemon=True)
        self.pid, self.every_s = pid, every_s
        self.redis = redis.Redis.from_url(redis_url, client_name=OWN)
        where = urlsplit(base)
        self.http = http.client.HTTPConnection(where.hostname or "", where.port, timeout=60)
        self._following = threading.Event()
        self._stopping = threading.Event()
        self._sampling = threading.Lock()
        """Held while a sample is taken: ``unfollow`` waits for one in flight."""
        self.conns = self.most_conns = 0
        self.rss = self.most_rss = 0.0
        self.server: list[tuple[float, int]] = []
        """(perf_counter when the answer came, the orchestrator's ``parked_polls``)."""
        self.slowest_status_s = 0.0
        """The longest a ``parked_polls`` sample took: the timeline's resolution."""

    def run(self) -> None:
        while not self._stopping.is_set():
            with self._sampling:
                self._sample()
            self._stopping.wait(self.every_s)

    def _sample(self) -> None:
        self.conns = sum(c.get("name") != OWN for c in self.redis.client_list())
        self.rss = rss_mib(self.pid)
        self.most_conns = max(self.most_conns, self.conns)
        self.most_rss = max(self.most_rss, self.rss)
        if self._following.is_set():
            asked = time.perf_counter()
            parked = self._parked()
            if parked is not None:
                now = time.perf_counter()
                self.server.append((now, parked))
                self.slowest_status_s = max(self.slowest_status_s, now - asked)

    def _parked(self) -> int | None:
        try:
            self.http.request("GET", "/_public/status")
            answer = self.http.getresponse()
            body = answer.read()
        except (OSError, http.client.HTTPException):
            self.http.close()  # opened again by the next request
            return None
        # a 503 (Redis not answering in time) has no count
        return int(json.loads(body).get("parked_polls", 0)) if answer.status == 200 else None

    def reset(self) -> None:
        """The most from here on."""
        with self._sampling:
            self.most_conns, self.most_rss = self.conns, self.rss

    def follow(self, on: bool) -> None:
        """Sample ``parked_polls`` (each sample is a ``PING`` to Redis: off while commands are
        counted). Off returns once no sample is in flight."""
        if on:
            self._following.set()
            return
        self._following.clear()
        with self._sampling:
            pass

    def stop(self) -> None:
        self._stopping.set()
        self.join()
        self.http.close()
        self.redis.close()
