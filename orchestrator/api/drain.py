"""Draining a worker: an operator's ``POST /api/v1/workers/{id}/drain`` (or the worker's own,
on SIGTERM), the gate that refuses a drained worker's long-polls, and the worker's goodbye
(``DELETE /_worker/workers/{id}``).

A drain reaches the worker three ways, so that any one suffices: a ``drain_worker`` command on
its WebSocket, ``draining: true`` in its next heartbeat answer, and ``409 WORKER_DRAINING`` on
its next long-poll. The gate costs the long-poll no Redis read: each process keeps the set of
drained worker ids in memory, told at once over pub/sub and read again every ``SYNC_S`` in
case a message was lost (pub/sub down, or a process started after the drain).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from orchestrator.api.answers import Draining
from orchestrator.api.middleware import CLIENT, require_worker
from orchestrator.api.render import typed_response
from orchestrator.appkeys import BUS, LOOPS, PROFILES, SETTINGS, STORE
from orchestrator.errors import Conflict, Forbidden, NotFound
from orchestrator.loops.supervisor import run_every
from orchestrator.storage.worker_registry import UNDRAIN

DRAINING = web.AppKey("draining_workers", set[str])
"""Ids of the workers drained, as this process knows them."""
SYNC_S = 2.0

routes = web.RouteTableDef()


async def draining_context(app: web.Application) -> AsyncIterator[None]:
    """Follow drains from every process (needs the bus that ``_background`` starts)."""
    store = app[STORE]
    draining = app[DRAINING]

    def on_message(message: bytes) -> None:
        text = message.decode()
        if text.startswith(UNDRAIN):
            draining.discard(text.removeprefix(UNDRAIN))
        else:
            draining.add(text)

    async def sync() -> None:
        # A drain announced while this read was on its way may be dropped here; the next
        # read, SYNC_S later, has it (and the worker heard of it on its own channels).
        fresh = await store.draining_workers()
        draining.intersection_update(fresh)
        draining.update(fresh)

    await app[BUS].subscribe(store.keys.drain_channel, on_message)
    await sync()
    # in LOOPS, which _background cancels when the app stops
    app[LOOPS].append(asyncio.create_task(run_every("draining", SYNC_S, sync)))
    yield


def refuse_if_draining(app: web.Application, worker_id: str) -> None:
    """The long-poll's gate: a set lookup, no Redis read."""
    if worker_id in app[DRAINING]:
        raise Conflict(
            f"worker {worker_id!r} is draining: it gets no new tasks; finish or hand back the "
            "ones it holds, then deregister (DELETE /_worker/workers/{worker_id})",
            code="WORKER_DRAINING",
        )


def _operator(request: web.Request) -> None:
    client = request[CLIENT]
    if not any(
        c.name == client and c.can_manage_workers for c in request.app[SETTINGS].auth.clients
    ):
        raise Forbidden(
            f"client {client!r} may not drain workers (set can_manage_workers: true for it in "
            "the config file)",
            code="WORKER_MANAGEMENT_FORBIDDEN",
        )


@routes.post("/api/v1/workers/{worker_id}/drain")
async def drain(request: web.Request) -> web.Response:
    _operator(request)
    worker_id = request.match_info["worker_id"]
    settings = request.app[SETTINGS]
    if not await request.app[STORE].drain_worker(worker_id, settings.workers.ttl_s):
        raise NotFound(
            f"no live worker {worker_id!r} (GET /api/v1/workers lists them)",
            code="WORKER_NOT_FOUND",
        )
    request.app[DRAINING].add(worker_id)
    return typed_response(Draining(worker_id, "draining"), status=202)


@routes.post("/_worker/workers/{worker_id}/drain")
async def drain_self(request: web.Request) -> web.Response:
    """A worker stopping on its own (SIGTERM) says so: it shows as draining, and no process
    hands it a task any more."""
    worker_id = request.match_info["worker_id"]
    require_worker(request, worker_id)
    if not await request.app[STORE].drain_worker(worker_id, request.app[SETTINGS].workers.ttl_s):
        raise NotFound(
            f"worker {worker_id!r} is not registered (or expired)", code="WORKER_NOT_REGISTERED"
        )
    request.app[DRAINING].add(worker_id)
    return typed_response(Draining(worker_id, "draining"), status=202)


@routes.delete("/_worker/workers/{worker_id}")
async def deregister(request: web.Request) -> web.Response:
    """The worker stopped; a worker unknown already gets the same answer."""
    worker_id = request.match_info["worker_id"]
    require_worker(request, worker_id)
    await request.app[STORE].deregister_worker(worker_id)
    request.app[DRAINING].discard(worker_id)
    request.app[PROFILES].changed(worker_id)  # its next poll here: not registered
    return web.Response(status=204)
