"""``Metrics``: the Prometheus metrics of one orchestrator app, in a registry of its own.

Two kinds, listed with example queries in ``docs/metrics.md``:

- counters and histograms of what *this process* did: transitions it stored, requests it
  served, webhooks it sent. Each replica exports its own; Prometheus sums them.
- gauges that hold for the *whole deployment* (queue depth, jobs by status, workers), read from
  Redis when scraped: the scrape handler awaits ``refresh()`` and then calls ``render()``,
  because prometheus-client collects synchronously.

The registry is per app (never the global default one), so two apps in one process, as in the
tests, do not clash.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from orchestrator.engine.effects import Effects
from orchestrator.engine.model import JSON, Job, Task, TaskStatus
from orchestrator.storage import cluster
from orchestrator.storage.redis_store import RedisStore
from orchestrator.storage.stats import JobCounts, JobStats

_Metric = TypeVar("_Metric", Counter, Histogram)

log = logging.getLogger("orchestrator.metrics")

TIMEOUT_KINDS = ("dispatch", "result", "heartbeat", "execution", "human")
"""Kinds of the engine's ``timeout`` history events, pre-created so rate() sees the first."""

_PER_PROCESS = " (this process; sum across replicas)"
_DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
_WAIT_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)
_EXEC_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5)


@dataclass
class TransitionEvents:
    """What one stored transition means for the counters; built by ``events``."""

    created: bool = False
    finished: str | None = None
    """The terminal status the job reached in this transition, if it reached one."""
    duration_s: float = 0.0
    queue_waits: list[tuple[str, float]] = field(default_factory=list)
    """(task type, seconds from ready to leased) of each leased delivery that ended."""
    executions: list[tuple[str, float]] = field(default_factory=list)
    """(task type, seconds from leased to the worker's result)."""
    retries: list[str] = field(default_factory=list)
    lease_expiries: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)


def deliveries(job: Job) -> dict[str, Task]:
    """The job's tasks out with workers or queues: its one task and its parallel branches."""
    found = {t.task_id: t for t in job.branches.values()}
    if job.task is not None:
        found[job.task.task_id] = job.task
    return found


def new_history(before: Job, after: Job) -> list[JSON]:
    """History events this transition added (by id, so a trimmed history still works). Ids
    rise along the history (``engine/events.py``), so only its new tail is read; an event
    without an id counts as id 0, never new."""
    last = int(before.history[-1].get("id", 0)) if before.history else 0
    added: list[JSON] = []
    for event in reversed(after.history):
        number = event.get("id")
        if number is None:
            continue
        if int(number) <= last:
            break
        added.append(event)
    added.reverse()
    return added


def events(before: Job, after: Job) -> TransitionEvents:
    """Reads the events of a transition out of (before, after).

    Job counts come from statuses; task events from the history events the engine recorded in
    this transition (``task_result``, ``task_requeued``, ``lease_expired``, ``timeout``), with
    each task's type and lease time from ``before``, as the events name only the task id.
    """
    finished = after.terminal and not before.terminal
    ev = TransitionEvents(
        created=before.rev == 0,
        finished=after.status.value if finished else None,
        duration_s=max(0.0, (after.finished_at or after.updated_at) - after.created_at),
    )
    was, now_on = deliveries(before), deliveries(after)
    for task in was.values():
        still = now_on.get(task.task_id)
        ended = still is None or still.attempt != task.attempt
        if ended and task.status == TaskStatus.LEASED and task.leased_at is not None:
            # queued_at of a retry is when its backoff ends: the wait counts from "ready"
            ev.queue_waits.append((task.task_type, max(0.0, task.leased_at - task.queued_at)))
    for event in new_history(before, after):
        _task_event(ev, event, was.get(str(event.get("task_id"))))
    return ev


def _task_event(ev: TransitionEvents, event: JSON, task: Task | None) -> None:
    kind = event.get("type")
    if kind == "timeout":
        ev.timeouts.append(str(event.get("kind")))
    elif task is None:
        return
    elif kind == "task_result" and task.leased_at is not None:
        ev.executions.append((task.task_type, max(0.0, float(event["at"]) - task.leased_at)))
    elif kind == "task_requeued":
        ev.retries.append(task.task_type)
    elif kind == "lease_expired":
        ev.lease_expiries.append(task.task_type)


@dataclass(frozen=True)
class Snapshot:
    """The deployment-wide numbers behind the cluster gauges and the dashboard."""

    queues: dict[str, int]
    workers_active: int
    workers_busy: int
    """Active workers whose last heartbeat reported a load above 0."""
    jobs: JobCounts
    workers_draining: int = 0
    """Active workers an operator drained, still finishing their tasks."""
    primaries: dict[str, int] = field(default_factory=dict)
    """Redis Cluster: each primary (host:port), 1 if it answers and serves every slot."""


class ClusterGauges(Collector):
    """Gauges read from Redis at scrape time, so every replica reports the same truth."""

    def __init__(self, store: RedisStore, stats: JobStats, worker_ttl_s: float) -> None:
        self.store = store
        self.stats = stats
        self.worker_ttl_s = worker_ttl_s
        self._snapshot: Snapshot | None = None

    async def read(self) -> Snapshot:
        """A few round trips whatever the load: this process's stats deltas, SMEMBERS and
        one ZCARD pipeline, the live workers, one HGETALL."""
        await self.stats.flush()
        queues = await self.store.queue_depths(await self.store.task_types())
        workers = await self.store.live_workers(self.worker_ttl_s)
        busy = sum(1 for info, _ in workers if int(info.get("load") or 0) > 0)
        draining = sum(1 for info, _ in workers if info.get("draining"))
        jobs = await self.stats.jobs_by_status()
        primaries: dict[str, int] = {}
        if isinstance(self.store.redis, RedisCluster):
            _, detail = await cluster.health(self.store.redis)
            for node in detail["primaries"]:
                up = node["state"] == "ok" and node.get("slots_ok") == cluster.SLOTS
                primaries[str(node["node"])] = int(up)
        return Snapshot(queues, len(workers), busy, jobs, draining, primaries)

    async def refresh(self) -> None:
        """Reads the snapshot ``collect`` reports. When Redis fails, the gauges are left out
        of the scrape (a gap in their series) rather than reported stale."""
        try:
            self._snapshot = await self.read()
        except (RedisError, OSError) as exc:
            log.warning("cluster gauges left out of this scrape: %s", exc)
            self._snapshot = None

    def describe(self) -> Iterator[Metric]:
        return iter(self._families())

    def collect(self) -> Iterator[Metric]:
        snap = self._snapshot
        if snap is None:
            return iter(())
        queues, active, busy, jobs, draining, primaries = self._families()
        for task_type, depth in sorted(snap.queues.items()):
            queues.add_metric([task_type], depth)
        active.add_metric([], snap.workers_active)
        busy.add_metric([], snap.workers_busy)
        draining.add_metric([], snap.workers_draining)
        for blueprint, by_status in sorted(snap.jobs.items()):
            for status, n in sorted(by_status.items()):
                jobs.add_metric([blueprint, status], n)
        for node, up in sorted(snap.primaries.items()):
            primaries.add_metric([node], up)
        families = (queues, active, busy, jobs, draining)
        return iter(families + ((primaries,) if snap.primaries else ()))

    def _families(self) -> tuple[GaugeMetricFamily, ...]:
        cluster = " (whole deployment, read from Redis at scrape time)"
        return (
            GaugeMetricFamily(
                "orchestrator_queue_depth",
                "Tasks ready and waiting for a worker, by task type" + cluster,
                labels=["task_type"],
            ),
            GaugeMetricFamily(
                "orchestrator_workers_active", "Workers seen within worker_ttl_s" + cluster
            ),
            GaugeMetricFamily(
                "orchestrator_workers_busy",
                "Active workers whose last heartbeat reported load > 0" + cluster,
            ),
            GaugeMetricFamily(
                "orchestrator_jobs",
                "Non-terminal jobs by blueprint and status" + cluster + "; up to ~1 s behind",
                labels=["blueprint", "status"],
            ),
            GaugeMetricFamily(
                "orchestrator_workers_draining",
                "Active workers drained (by an operator, or stopping on SIGTERM)" + cluster,
            ),
            GaugeMetricFamily(
                "orchestrator_redis_primary_up",
                "Redis Cluster only: 1 per primary that answers and sees every hash slot served,"
                " else 0, by node (host:port)",
                labels=["node"],
            ),
        )


class Metrics:
    def __init__(self, store: RedisStore, stats: JobStats, *, worker_ttl_s: float) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.jobs_created = Counter(
            "orchestrator_jobs_created", "Jobs created" + _PER_PROCESS, ["blueprint"], registry=r
        )
        self.jobs_finished = Counter(
            "orchestrator_jobs_finished",
            "Jobs that reached a terminal status" + _PER_PROCESS,
            ["blueprint", "status"],
            registry=r,
        )
        self.job_duration = Histogram(
            "orchestrator_job_duration_seconds",
            "Creation to terminal status" + _PER_PROCESS,
            ["blueprint"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.queue_wait = Histogram(
            "orchestrator_task_queue_wait_seconds",
            "Ready in the queue to leased by a worker, observed when the delivery ends"
            + _PER_PROCESS,
            ["task_type"],
            buckets=_WAIT_BUCKETS,
            registry=r,
        )
        self.execution = Histogram(
            "orchestrator_task_execution_seconds",
            "Leased to the worker's result" + _PER_PROCESS,
            ["task_type"],
            buckets=_EXEC_BUCKETS,
            registry=r,
        )
        self.lease_expiries = Counter(
            "orchestrator_lease_expiries",
            "Leases that ran out (worker gone or silent)" + _PER_PROCESS,
            ["task_type"],
            registry=r,
        )
        self.retries = Counter(
            "orchestrator_task_retries",
            "Tasks queued again for another attempt" + _PER_PROCESS,
            ["task_type"],
            registry=r,
        )
        self.timeouts = Counter(
            "orchestrator_timeouts",
            "Timeouts by kind: dispatch (no worker took a task), result (job deadline), "
            "heartbeat (a lease ran out), execution (a task ran past its timeout), human "
            "(a decision came too late)" + _PER_PROCESS,
            ["kind"],
            registry=r,
        )
        self.webhooks = Counter(
            "orchestrator_webhook_deliveries",
            "Webhook delivery attempts by outcome" + _PER_PROCESS,
            ["outcome"],
            registry=r,
        )
        self.http_requests = Counter(
            "orchestrator_http_requests",
            "HTTP requests by route group (public, api, worker, other) and status" + _PER_PROCESS,
            ["group", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "orchestrator_http_request_duration_seconds",
            "HTTP request handling time by route group; worker long-polls last up to "
            "poll_timeout_s" + _PER_PROCESS,
            ["group"],
            buckets=_HTTP_BUCKETS,
            registry=r,
        )
        self.task_results = Counter(
            "orchestrator_task_results",
            "Task results received by transport (http: POST /_worker/tasks/result, websocket: "
            "a result message on the worker's socket) and outcome (accepted, refused)"
            + _PER_PROCESS,
            ["transport", "outcome"],
            registry=r,
        )
        self.loop_lag = Histogram(
            "orchestrator_event_loop_lag_seconds",
            "How late a 0.5 s sleep wakes up: time the event loop was blocked" + _PER_PROCESS,
            buckets=_LAG_BUCKETS,
            registry=r,
        )
        # Series that exist from the start, so rate() sees their first increment.
        for kind in TIMEOUT_KINDS:
            self.timeouts.labels(kind)
        for outcome in ("success", "failure"):
            self.webhooks.labels(outcome)
        for transport in ("http", "websocket"):
            for outcome in ("accepted", "refused"):
                self.task_results.labels(transport, outcome)
        self.cluster = ClusterGauges(store, stats, worker_ttl_s)
        r.register(self.cluster)
        self.refreshers: list[Callable[[], Awaitable[None]]] = []
        """More collectors' reads before a scrape (e.g. ``human/metrics.py``)."""
        self._http_series: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
        self._children: dict[tuple[object, tuple[str, ...]], Any] = {}

    def observe(self, before: Job, after: Job, effects: Effects) -> None:
        """A ``JobRunner`` observer: turns a stored transition into counter increments."""
        ev = events(before, after)
        blueprint = after.blueprint
        child = self._child
        if ev.created:
            child(self.jobs_created, blueprint).inc()
        if ev.finished is not None:
            child(self.jobs_finished, blueprint, ev.finished).inc()
            child(self.job_duration, blueprint).observe(ev.duration_s)
        for task_type, seconds in ev.queue_waits:
            child(self.queue_wait, task_type).observe(seconds)
        for task_type, seconds in ev.executions:
            child(self.execution, task_type).observe(seconds)
        for task_type in ev.retries:
            child(self.retries, task_type).inc()
        for task_type in ev.lease_expiries:
            child(self.lease_expiries, task_type).inc()
        for kind in ev.timeouts:
            child(self.timeouts, kind).inc()

    def _child(self, metric: _Metric, *values: str) -> _Metric:
        """``metric.labels(*values)``, kept: a step's increments look their series up here
        rather than under prometheus-client's lock each time. Nothing removes a series, and
        prometheus-client keeps each one anyway, so this holds no more than it does."""
        key = (metric, values)
        found: _Metric | None = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        return found

    def webhook_delivered(self, ok: bool) -> None:
        """For the webhook sender: one call per delivery attempt."""
        self.webhooks.labels("success" if ok else "failure").inc()

    def http_request(self, group: str, status: int, seconds: float) -> None:
        # Every request lands here: the labelled children are kept rather than looked up under
        # prometheus-client's lock each time. Groups and statuses are few, so this stays small.
        series = self._http_series.get((group, status))
        if series is None:
            series = self.http_requests.labels(group, str(status)), self.http_duration.labels(group)
            self._http_series[(group, status)] = series
        series[0].inc()
        series[1].observe(seconds)

    def task_result(self, transport: str, outcome: str) -> None:
        self._child(self.task_results, transport, outcome).inc()

    def event_loop_lag(self, seconds: float) -> None:
        self.loop_lag.observe(seconds)

    async def refresh(self) -> None:
        await self.cluster.refresh()
        for more in self.refreshers:
            await more()

    def render(self) -> bytes:
        return generate_latest(self.registry)
