"""Routing and limits as the dispatcher and the metrics see them.

``Claims`` is the claim a long-poll makes: the queues of the worker's tags and labels, the
limits of ``task_types``, and a timer that re-wakes a type held back by ``max_per_second``
(a type at ``max_in_flight`` is woken when a delivery ends: ``Queues.wake_limited``).
``unroutable`` lists the queued tasks no live worker can take. ``FleetGauges`` exports both
(``docs/metrics.md``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from orchestrator.config import TaskLimit
from orchestrator.dispatch.waiters import WorkerProfile
from orchestrator.engine.requires import as_mapping, encode, met_by, split
from orchestrator.storage.queues import Claimed
from orchestrator.storage.redis_store import RedisStore

log = logging.getLogger("orchestrator.dispatch")


Claim = Callable[[str, str, list[str], int], Awaitable[Claimed]]
"""(task type, worker id, requirement sets it meets, how many at most) -> what it leased
(``leases.claim``)."""


class Claims:
    def __init__(
        self,
        claim: Claim,
        store: RedisStore,
        limits: Mapping[str, TaskLimit],
        registry: CollectorRegistry,
    ) -> None:
        self.claim = claim
        self.store = store
        self.wake: Callable[[str], None] = lambda _: None
        """The dispatcher's, set once it exists (it takes this object)."""
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self.throttled = Counter(
            "orchestrator_task_throttled",
            "Claims that found tasks of a type but were held back by its limit (max_in_flight "
            "or max_per_second) (this process; sum across replicas)",
            ["task_type", "limit"],
            registry=registry,
        )
        for task_type in limits:
            for limit in ("max_in_flight", "max_per_second"):
                self.throttled.labels(task_type, limit)

    async def __call__(self, task_type: str, worker: WorkerProfile, count: int) -> list[bytes]:
        routes = self.store.routes_met(task_type, worker.tags, worker.labels)
        got = await self.claim(task_type, worker.worker_id, routes, count)
        held = got.stop
        if held is None:
            return got.payloads
        self.throttled.labels(task_type, held.reason).inc()
        if held.retry_in_s > 0 and task_type not in self._timers:
            # one timer per type and process, when the bucket holds a token again
            loop = asyncio.get_running_loop()
            self._timers[task_type] = loop.call_later(held.retry_in_s, self._fire, task_type)
        return got.payloads

    def _fire(self, task_type: str) -> None:
        self._timers.pop(task_type, None)
        self.wake(task_type)

    def close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()


async def unroutable(store: RedisStore, worker_ttl_s: float) -> list[dict[str, Any]]:
    """Queued tasks no live worker can take, counted per task type and requirement set:
    no live worker has the skill, or none has the tags and labels. They wait (until their
    ``dispatch_timeout``, if any)."""
    depths = await store.route_depths(await store.task_types())
    waiting = {q: n for q, n in depths.items() if n}
    if not waiting:
        return []
    workers = [info for info, _ in await store.live_workers(worker_ttl_s)]
    offers = [
        (
            set(info.get("supported_skills") or ()),
            frozenset(info.get("tags") or ()),
            frozenset((str(k), str(v)) for k, v in (info.get("labels") or {}).items()),
        )
        for info in workers
    ]
    found = []
    for queue, n in sorted(waiting.items()):
        task_type, encoding = split(queue)
        if not any(task_type in skills and met_by(encoding, t, lb) for skills, t, lb in offers):
            found.append({"task_type": task_type, "requires": as_mapping(encoding), "queued": n})
    return found


class FleetGauges(Collector):
    """Unroutable tasks and per-type limits, read from Redis at scrape time."""

    def __init__(
        self, store: RedisStore, limits: Mapping[str, TaskLimit], worker_ttl_s: float
    ) -> None:
        self.store = store
        self.limits = limits
        self.worker_ttl_s = worker_ttl_s
        self._unroutable: list[dict[str, Any]] | None = None
        self._in_flight: dict[str, int] = {}

    async def refresh(self) -> None:
        try:
            self._unroutable = await unroutable(self.store, self.worker_ttl_s)
            self._in_flight = await self.store.in_flight(self.limits)
        except (RedisError, OSError) as exc:
            log.warning("routing gauges left out of this scrape: %s", exc)
            self._unroutable = None

    def describe(self) -> Iterator[Metric]:
        return iter(self._families())

    def collect(self) -> Iterator[Metric]:
        if self._unroutable is None:
            return iter(())
        unroutable_, limit, in_flight = self._families()
        for item in self._unroutable:
            requires = encode(item["requires"])  # e.g. "+gpu,region=eu"
            unroutable_.add_metric([item["task_type"], requires], item["queued"])
        for task_type, lim in sorted(self.limits.items()):
            if lim.max_in_flight:
                limit.add_metric([task_type, "max_in_flight"], lim.max_in_flight)
            if lim.max_per_second:
                limit.add_metric([task_type, "max_per_second"], lim.max_per_second)
            in_flight.add_metric([task_type], self._in_flight.get(task_type, 0))
        return iter((unroutable_, limit, in_flight))

    def _families(self) -> tuple[GaugeMetricFamily, ...]:
        cluster = " (whole deployment, read from Redis at scrape time)"
        return (
            GaugeMetricFamily(
                "orchestrator_tasks_unroutable",
                "Ready tasks no live worker can take (no worker with the skill, or with the "
                "tags and labels of 'requires'), by task type and requirement set" + cluster,
                labels=["task_type", "requires"],
            ),
            GaugeMetricFamily(
                "orchestrator_task_type_limit",
                "Configured limits of task types (task_types in the config file)",
                labels=["task_type", "limit"],
            ),
            GaugeMetricFamily(
                "orchestrator_task_type_in_flight",
                "Deliveries of a limited task type out with workers" + cluster,
                labels=["task_type"],
            ),
        )
