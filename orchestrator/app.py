"""``create_app``: the aiohttp application, its routes, middlewares and background loops."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from orchestrator import console
from orchestrator.api import (
    catalog,
    dashboard,
    debug,
    drain,
    events,
    files,
    hot,
    human,
    human_events,
    jobs,
    observe,
    openapi,
    progress,
    public,
    registration,
    routes_declared,
    tickets,
    workers,
    ws,
)
from orchestrator.api.middleware import Front
from orchestrator.appkeys import (
    BUS,
    CLAIMS,
    DISPATCHER,
    JOB_WAITERS,
    LOOPS,
    METRICS,
    PROFILES,
    REGISTRY,
    RUNNER,
    SETTINGS,
    SOCKETS,
    STATS,
    STORE,
)
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.config import Settings
from orchestrator.dispatch.bus import Bus
from orchestrator.dispatch.fleet import Claims, FleetGauges
from orchestrator.dispatch.job_waiters import JobWaiters
from orchestrator.dispatch.profiles import Profiles
from orchestrator.dispatch.sockets import SocketTable
from orchestrator.dispatch.waiters import Dispatcher
from orchestrator.human.metrics import HumanMetrics
from orchestrator.loops.supervisor import run_every, run_paced
from orchestrator.loops.sweeper import Sweeper
from orchestrator.loops.telemetry import telemetry
from orchestrator.loops.webhooks import webhook_sender
from orchestrator.metrics import Metrics
from orchestrator.shell import leases
from orchestrator.shell.jobs import JobRunner
from orchestrator.storage import stall_watch
from orchestrator.storage.redis_store import RedisStore
from orchestrator.storage.stats import JobStats

log = logging.getLogger("orchestrator")

RECHECK_S = 2.0


def create_app(
    settings: Settings, store: RedisStore, registry: BlueprintRegistry
) -> web.Application:
    """The aiohttp application: every route, the background loops, over ``store``."""
    metrics = Metrics(store, JobStats(store), worker_ttl_s=settings.workers.ttl_s)
    middlewares = [Front(settings, store, metrics)]
    app = web.Application(middlewares=middlewares, client_max_size=settings.http.max_body_bytes)
    origin = f"{socket.gethostname()}-{os.getpid()}-{id(app):x}"
    bus = Bus(store.redis)
    woken: list[Callable[[str], None]] = []  # the dispatcher's wake, once it exists

    def wake(queue: str) -> None:
        for call in woken:
            call(queue)

    runner = JobRunner(store, registry, settings, origin=origin, wake=wake)
    claims = Claims(
        lambda task_type, worker_id, routes, count: leases.claim(
            runner, task_type, worker_id, routes, count
        ),
        store,
        settings.task_types,
        metrics.registry,
    )
    dispatcher = Dispatcher(
        claims, runner.claim_gate, lambda queue: store.publish_wake(queue, origin)
    )
    store.served_here = dispatcher.will_serve  # its polls take it: the others need not hear
    claims.wake = dispatcher.wake
    woken.append(dispatcher.wake)
    store.limited = frozenset(t for t, lim in settings.task_types.items() if lim.max_in_flight)
    app[SETTINGS] = settings
    app[STORE] = store
    app[REGISTRY] = registry
    app[RUNNER] = runner
    app[DISPATCHER] = dispatcher
    app[BUS] = bus
    app[SOCKETS] = SocketTable(bus, store.keys)
    app[JOB_WAITERS] = JobWaiters(settings.retention_s)
    app[PROFILES] = Profiles(store.worker_infos)
    app[drain.DRAINING] = set()
    app[LOOPS] = []
    stats = metrics.cluster.stats
    app[STATS] = stats
    app[METRICS] = metrics
    fleet = FleetGauges(store, settings.task_types, settings.workers.ttl_s)
    metrics.registry.register(fleet)
    metrics.refreshers.append(fleet.refresh)
    app[CLAIMS] = claims
    runner.observers += [app[METRICS].observe, stats.observe]
    clients = [c.name for c in settings.auth.clients]
    human_metrics = HumanMetrics(store, clients, app[METRICS].registry)
    app[METRICS].refreshers.append(human_metrics.refresh)
    runner.observers.append(human_metrics.observe)
    app[human_events.INBOX_WAITERS] = JobWaiters()
    # files before jobs: jobs ends with the catch-all POST /api/{version}/{endpoint:.+}
    tables = (
        hot.routes,  # first: the routes every job goes through (hot.py)
        public.routes,
        openapi.routes,
        observe.routes,
        catalog.routes,
        registration.routes,  # before jobs: POST /api/v1/blueprints is not a job creation
        dashboard.routes,
        drain.routes,  # before jobs: POST /api/v1/workers/{id}/drain is not a create
        files.routes,
        events.routes,
        human.routes,  # before jobs: POST /api/v1/jobs/{id}/decision is not a create
        human_events.routes,
        tickets.routes,  # before jobs: POST /api/v1/tickets/{id}/transition is no create
        jobs.routes,
        workers.routes,
        progress.routes,
        ws.routes,
    )
    for table in tables:
        if table is jobs.routes:  # declared routes first: the create route would take them
            builtin = [r for t in tables for r in t if isinstance(r, web.RouteDef)]
            app.add_routes(routes_declared.route_table(registry.all(), builtin))
        app.add_routes(table)
    if settings.dev_mode:  # elsewhere the route does not exist: 404 like any unknown path
        app.add_routes(debug.routes)
    if settings.http.console_enabled:  # off: /console/ is a 404 like any unknown path
        app.add_routes(console.routes)
    app.cleanup_ctx.append(_background)
    app.cleanup_ctx.append(registration.registered_context)  # needs the bus _background started
    app.cleanup_ctx.append(drain.draining_context)  # needs the bus _background started
    app.cleanup_ctx.append(workers.profiles_context)  # needs the bus _background started
    app.cleanup_ctx.append(human_events.inbox_context)  # needs the bus _background started
    # after _background, so it exits first: its last flush needs the store still open
    app.cleanup_ctx.append(telemetry(app[METRICS], stats, origin))
    app.cleanup_ctx.append(webhook_sender(runner, app[METRICS]))  # also exits before _background
    if settings.s3.bucket:
        app.cleanup_ctx.append(files.s3_context)
    app.on_shutdown.append(_shutdown)
    app.on_shutdown.append(human_events.close_streams)
    return app


async def _background(app: web.Application) -> AsyncIterator[None]:
    store, bus, dispatcher = app[STORE], app[BUS], app[DISPATCHER]
    runner = app[RUNNER]
    await store.scripts.load(store.redis)
    origin = runner.origin

    def on_wake(message: bytes) -> None:
        queue, _, sender = message.decode().partition("|")
        if sender and sender != origin:
            store.audience.heard_other()  # it listens too: publish to it (storage/audience.py)
        if not queue:  # HELLO: a process started
            return
        if sender != origin:  # our own wake-ups were served locally already
            store.learn_route(queue)  # a requirement set another process queued first
            dispatcher.wake(queue, heard=True)

    await bus.subscribe(store.keys.wake_channel, on_wake)
    await bus.subscribe(store.keys.ended_channel, app[JOB_WAITERS].ended)
    store.audience.listen(store.keys.wake_channel, on_wake)
    store.audience.listen(store.keys.ended_channel, app[JOB_WAITERS].ended)
    store.job_ended = app[JOB_WAITERS].ended_job
    store.job_created = app[JOB_WAITERS].created
    await bus.subscribe(store.keys.changed_channel, app[JOB_WAITERS].ended)
    job_waiters = app[JOB_WAITERS]

    def on_reconnect() -> None:
        # Wake-ups, ends and changes published while the bus was away are lost: every parked
        # long-poll, job wait and event stream re-checks the stored state (the long-polls
        # with the requirement sets queued meanwhile).
        rechecks[:] = [t for t in rechecks if not t.done()]
        rechecks.append(asyncio.create_task(recheck()))
        job_waiters.wake_all()

    async def recheck() -> None:
        await store.refresh_routes()
        dispatcher.wake_all()

    rechecks: list[asyncio.Task[None]] = []
    await store.refresh_routes()

    bus.on_reconnect = on_reconnect
    bus.start()
    await store.redis.publish(store.keys.wake_channel, f"|{origin}")  # HELLO
    sweeper = Sweeper(runner, dispatcher)
    runner.after_commit.append(sweeper.fire_due_now)
    loops = app[LOOPS]
    loops.append(asyncio.create_task(run_paced("sweeper", sweeper.pacer, sweeper.sweep)))
    loops.append(asyncio.create_task(run_every("recheck", RECHECK_S, sweeper.recheck_waiters)))
    watching = stall_watch.start(store.redis)
    if watching is not None:
        loops.append(watching)
    if store.embedded:
        log.warning(
            "running on the EMBEDDED in-process store: nothing is durable, every job is lost "
            "when this process stops. Use --redis-url redis://... for real work."
        )
    yield
    app[CLAIMS].close()
    for task in loops + rechecks:
        task.cancel()
    await asyncio.gather(*loops, *rechecks, return_exceptions=True)
    await bus.stop()
    await store.close()


async def _shutdown(app: web.Application) -> None:
    # Parked long-polls answer 204 now, so workers are not left hanging on a closing server.
    app[DISPATCHER].close()
    app[JOB_WAITERS].close()
    await app[SOCKETS].close_all()
