"""/_worker: registration, heartbeats, the long-poll for tasks, results and declines."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from aiohttp import web
from msgspec import Meta, Struct

from orchestrator.api import hot, queries, schemas
from orchestrator.api.drain import DRAINING, refuse_if_draining
from orchestrator.api.middleware import read_json, require_worker
from orchestrator.api.protocol import read_ago
from orchestrator.api.render import json_response, typed_response
from orchestrator.appkeys import (
    BUS,
    DISPATCHER,
    LOOPS,
    METRICS,
    PROFILES,
    RUNNER,
    SETTINGS,
    STORE,
)
from orchestrator.dispatch import profiles
from orchestrator.dispatch.waiters import WorkerProfile
from orchestrator.errors import NotFound
from orchestrator.loops.supervisor import run_every
from orchestrator.shell import leases, results
from worker_sdk.protocol import MAX_BATCH, Registered

routes = web.RouteTableDef()


async def profiles_context(app: web.Application) -> AsyncIterator[None]:
    """Keep ``PROFILES`` true: announcements from every process, a refresh now and then
    (needs the bus ``_background`` starts)."""
    known = app[PROFILES]
    bus = app[BUS]

    def on_message(message: bytes) -> None:
        known.changed(message.decode())

    await bus.subscribe(app[STORE].keys.workers_channel, on_message)
    earlier = bus.on_reconnect

    def on_reconnect() -> None:
        if earlier is not None:
            earlier()
        known.forget_all()

    bus.on_reconnect = on_reconnect
    # in LOOPS, which _background cancels when the app stops
    app[LOOPS].append(asyncio.create_task(run_every("profiles", profiles.REFRESH_S, known.refresh)))
    yield


def _not_registered(worker_id: str) -> NotFound:
    return NotFound(
        f"worker {worker_id!r} is not registered (or expired); register again",
        code="WORKER_NOT_REGISTERED",
    )


@routes.post("/_worker/workers/register")
async def register(request: web.Request) -> web.Response:
    info = schemas.registration(await read_json(request))
    worker_id = info["worker_id"]
    require_worker(request, worker_id)
    now = time.time()
    info.update(registered_at=now, load=0)
    await request.app[STORE].register_worker(worker_id, info)
    request.app[PROFILES].put(info)
    settings = request.app[SETTINGS]
    return typed_response(
        Registered(
            status="registered",
            heartbeat_interval_s=settings.workers.heartbeat_interval_s,
            lease_s=settings.workers.lease_s,
            poll_timeout_s=settings.workers.poll_timeout_s,
        )
    )


@routes.patch("/_worker/workers/{worker_id}")
async def heartbeat(request: web.Request) -> web.Response:
    worker_id = request.match_info["worker_id"]
    require_worker(request, worker_id)
    update = schemas.heartbeat(await read_json(request, required=False))
    store = request.app[STORE]
    info = None
    offers_changed = False
    if update is not None:
        info = await store.worker_info(worker_id)
        if info is None:
            raise _not_registered(worker_id)
        info.update(update)
        if "running_tasks" in update:
            # When the list was said: a lease it leaves out well after the lease began is one
            # the worker never received (shell/leases.py).
            info["running_at"] = time.time()
        offers_changed = bool({"supported_skills", "tags", "labels"} & set(update))
    beat = await store.heartbeat(worker_id, info, offers_changed=offers_changed)
    if not beat.known:
        raise _not_registered(worker_id)
    if offers_changed and info is not None:
        request.app[PROFILES].put(info)
    if beat.draining:
        request.app[DRAINING].add(worker_id)  # in case this process missed the announcement
    answer = {"status": "ttl_refreshed", "cancelled_tasks": beat.cancelled}
    return json_response(answer | {"draining": beat.draining})


async def _skills(app: web.Application, worker_id: str) -> WorkerProfile:
    profile = await app[PROFILES].get(worker_id)
    if profile is None:
        raise _not_registered(worker_id)
    return profile


log = logging.getLogger("orchestrator.api.workers")

_TIMEOUT = "Longest wait in seconds (capped by the server's poll timeout)."
_MAX = (
    "Most tasks to take: the poll waits for the first, then adds only those ready at once (a "
    "worker asks for its free slots)."
)


class PollQuery(Struct, kw_only=True):
    timeout: Annotated[float, Meta(ge=0, description=_TIMEOUT)] | None = None
    max: Annotated[int, Meta(ge=1, le=MAX_BATCH, description=_MAX)] = 1


@hot.routes.get("/_worker/workers/{worker_id}/tasks/next")  # tried first (hot.py)
async def next_task(request: web.Request) -> web.StreamResponse:
    queued = read_ago(request)
    handled = time.monotonic()
    # the loop's clock (for the poll's timer) when its bytes were read
    answer = await _next_task(request, asyncio.get_running_loop().time() - queued)
    # Where the poll's time went, as this process saw it (for a worker's logs, and
    # bench/idle.py): from its bytes read to its handler, and to its answer.
    polled = time.monotonic() - handled + queued
    answer.headers["Server-Timing"] = f"queue;dur={queued * 1e3:.1f}, poll;dur={polled * 1e3:.1f}"
    return answer


async def _next_task(request: web.Request, arrived: float) -> web.StreamResponse:
    worker_id = request.match_info["worker_id"]
    require_worker(request, worker_id)
    refuse_if_draining(request.app, worker_id)
    longest = request.app[SETTINGS].workers.poll_timeout_s
    query = queries.parse(request.query, PollQuery)
    wait_s = longest if query.timeout is None else min(query.timeout, longest)
    want = query.max
    worker = await _skills(request.app, worker_id)
    polling = asyncio.ensure_future(
        request.app[DISPATCHER].next_tasks(worker, wait_s, want, since=arrived)
    )
    try:
        payloads = await asyncio.shield(polling)
    except asyncio.CancelledError:
        # This handler was cancelled (shutdown, or a server that cancels the handlers of
        # hung-up requests): a claim in flight may still lease tasks, which go back once it
        # ends rather than when their leases run out.
        give_back_when_claimed(request.app, polling, worker_id)
        raise
    if not payloads:
        return web.Response(status=204)
    if request.transport is None or request.transport.is_closing():
        # The worker hung up while it waited (it is stopping): give the tasks straight back
        # rather than let them sit until their leases run out.
        await give_back(request.app, payloads, worker_id)
        return web.Response(status=204)
    if worker_id in request.app[DRAINING]:
        # Drained while it waited: the tasks go back to their queues at once.
        await give_back(request.app, payloads, worker_id)
        refuse_if_draining(request.app, worker_id)
    if want == 1:
        # The single form (no ``max``, or 1): the task object itself, as before batches.
        return web.Response(body=payloads[0], content_type="application/json")
    # The payloads are JSON objects already: spliced in, not parsed and encoded again.
    body = b'{"tasks":[' + b",".join(payloads) + b"]}"
    return web.Response(body=body, content_type="application/json")


async def ready_tasks(app: web.Application, worker_id: str, want: int) -> list[bytes]:
    """Up to ``want`` tasks ready now for the worker, leased to it; none while it drains
    (or is not registered): a result's answer may carry them (``ws.py``)."""
    if worker_id in app[DRAINING]:
        return []
    worker = await app[PROFILES].get(worker_id)
    if worker is None:
        return []
    return await app[DISPATCHER].ready_tasks(worker, want)


_giving_back: set[asyncio.Task[None]] = set()


def give_back_when_claimed(
    app: web.Application, claiming: asyncio.Future[list[bytes]], worker_id: str
) -> None:
    """Give back what ``claiming`` brings, in the background: for a caller that is being
    cancelled, and so cannot wait for it."""
    late = asyncio.ensure_future(_give_back_when_claimed(app, claiming, worker_id))
    _giving_back.add(late)
    late.add_done_callback(_giving_back.discard)


async def _give_back_when_claimed(
    app: web.Application, claiming: asyncio.Future[list[bytes]], worker_id: str
) -> None:
    try:
        await give_back(app, await claiming, worker_id)
    except Exception as exc:  # nobody waits for this: the leases run out instead
        log.warning("tasks claimed for a request that went away stay leased until then: %s", exc)


async def give_back(app: web.Application, payloads: list[bytes], worker_id: str) -> None:
    """Put tasks leased to the worker but never handed to it back in their queues."""
    failed: Exception | None = None
    for payload in payloads:
        try:
            await leases.release(app[RUNNER], payload, worker_id)
        except Exception as exc:  # the others go back all the same; this one when its lease ends
            failed = failed or exc
    if failed is not None:
        raise failed


@routes.post("/_worker/tasks/result")
async def result(request: web.Request) -> web.Response:
    check = functools.partial(require_worker, request)
    answer = await apply_result(request.app, await read_json(request), check, "http")
    return json_response({"status": answer})


async def apply_result(
    app: web.Application, raw: object, may_report: Callable[[str], None], transport: str
) -> str:
    """Apply a task result, whichever way it came (``transport``: ``http`` or ``websocket``,
    ``ws.py``): the body checked by the one schema, its ``worker_id`` by the transport's
    ``may_report`` (raises when the caller may not speak for that worker). Returns the
    status to answer; raises the ``OrchestratorError`` to answer instead."""
    outcome = "refused"
    try:
        body = schemas.task_result(raw)
        may_report(body["worker_id"])
        answer = await results.submit_result(app[RUNNER], body["worker_id"], body)
        outcome = "accepted"
        return answer
    finally:
        app[METRICS].task_result(transport, outcome)


@routes.post("/_worker/tasks/decline")
async def decline(request: web.Request) -> web.Response:
    """The worker will not run the attempt it was given: release it now, not at lease end."""
    body = schemas.task_decline(await read_json(request))
    require_worker(request, body["worker_id"])
    answer = await results.decline(request.app[RUNNER], body["worker_id"], body)
    return json_response({"status": answer})
