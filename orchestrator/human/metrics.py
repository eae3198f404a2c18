"""Prometheus metrics of human steps: waiting and overdue steps by role (whole deployment,
read from the inbox indexes at scrape time) and how long decisions took (this process)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from orchestrator.engine.effects import Effects
from orchestrator.engine.model import Job
from orchestrator.human import inbox
from orchestrator.human.index import NO_ROLE
from orchestrator.storage.redis_store import RedisStore

log = logging.getLogger("orchestrator.metrics")

_WAIT_BUCKETS = (1, 10, 60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 86400)


class HumanMetrics(Collector):
    def __init__(self, store: RedisStore, clients: list[str], registry: CollectorRegistry):
        self.store = store
        self.clients = clients
        self._counts: dict[str, dict[str, int]] | None = None
        self.decision_wait = Histogram(
            "orchestrator_human_decision_wait_seconds",
            "From a human step starting to wait to its decision, by the step's role"
            " (this process; sum across replicas)",
            ["role"],
            buckets=_WAIT_BUCKETS,
            registry=registry,
        )
        registry.register(self)

    async def refresh(self) -> None:
        try:
            self._counts = await inbox.counts(self.store, self.clients)
        except (RedisError, OSError) as exc:
            log.warning("human task gauges left out of this scrape: %s", exc)
            self._counts = None

    def observe(self, before: Job, after: Job, effects: Effects) -> None:
        """A ``JobRunner`` observer: a decision stored in this transition."""
        last = int(before.history[-1]["id"]) if before.history else 0
        for event in after.history:
            if int(event["id"]) > last and event["type"] == "human_decided":
                role = event.get("role") or NO_ROLE
                self.decision_wait.labels(role).observe(float(event.get("waited_s") or 0))

    def describe(self) -> Iterator[Metric]:
        return iter(self._families())

    def collect(self) -> Iterator[Metric]:
        if self._counts is None:
            return iter(())
        waiting, overdue = self._families()
        for role, n in sorted(self._counts.items()):
            waiting.add_metric([role], n["waiting"])
            overdue.add_metric([role], n["overdue"])
        return iter((waiting, overdue))

    def _families(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        cluster = " (whole deployment, read from Redis at scrape time)"
        return (
            GaugeMetricFamily(
                "orchestrator_human_tasks_waiting",
                "Human steps waiting for a decision, by role" + cluster,
                labels=["role"],
            ),
            GaugeMetricFamily(
                "orchestrator_human_tasks_overdue",
                "Waiting human steps past their due time, by role" + cluster,
                labels=["role"],
            ),
        )
