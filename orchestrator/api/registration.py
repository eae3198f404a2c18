"""/api/v1/blueprints: register, read, replace and retire blueprints at run time.

Only clients with ``can_manage_blueprints`` may change them. A body is a YAML blueprint
document (``application/yaml``, or its JSON equivalent) or a seed-003 workflow; never code.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from aiohttp import web
from msgspec import Meta, Struct
from redis.exceptions import RedisError

from orchestrator.api import queries
from orchestrator.api.answers.blueprints import BlueprintRetired
from orchestrator.api.middleware import CLIENT
from orchestrator.api.render import iso, json_response, typed_response
from orchestrator.appkeys import BUS, LOOPS, REGISTRY, SETTINGS, STORE
from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.route_clashes import route_clash
from orchestrator.errors import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge
from orchestrator.intake import submitted
from orchestrator.loops.supervisor import run_every
from orchestrator.shell.mirror import Mirror
from orchestrator.storage.registered import Changed, Entry, Record, RegisteredStore

MIRROR = web.AppKey("registered_mirror", Mirror)

routes = web.RouteTableDef()


async def registered_context(app: web.Application) -> AsyncIterator[None]:
    """Load every registered blueprint before serving, then follow changes (needs the bus)."""
    store = RegisteredStore(app[STORE].redis, app[STORE].keys)
    mirror = Mirror(store, app[REGISTRY])
    app[MIRROR] = mirror
    bus = app[BUS]
    await bus.subscribe(store.channel, mirror.on_announce)
    await mirror.sync(force=True)
    # Announcements are lost only while the pub/sub connection is down: sync when it is back
    # (at once, as a change announced meanwhile may be one this process must serve), and
    # check slowly in case of anything else.
    earlier = bus.on_reconnect
    syncs: set[asyncio.Task[None]] = set()

    def on_reconnect() -> None:
        if earlier is not None:
            earlier()
        task = asyncio.create_task(resync())
        syncs.add(task)
        task.add_done_callback(syncs.discard)

    async def resync() -> None:
        with contextlib.suppress(RedisError, OSError):  # the slow check tries again
            await mirror.sync()

    bus.on_reconnect = on_reconnect
    every = app[SETTINGS].sweeps.idle_interval_s
    # in LOOPS, which _background cancels when the app stops
    app[LOOPS].append(asyncio.create_task(run_every("blueprints", every, mirror.sync)))
    yield
    for task in syncs:
        task.cancel()


def _manager(request: web.Request) -> str:
    client = request[CLIENT]
    allowed = {c.name for c in request.app[SETTINGS].auth.clients if c.can_manage_blueprints}
    if client not in allowed:
        raise Forbidden(
            f"client {client!r} may not manage blueprints (set can_manage_blueprints: true "
            "for it in the config file)",
            code="BLUEPRINT_MANAGEMENT_FORBIDDEN",
        )
    return client


async def _submission(request: web.Request) -> submitted.Submission:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        limit = request.app[SETTINGS].http.max_body_bytes
        raise PayloadTooLarge(f"body larger than {limit} bytes") from exc
    registry = request.app[REGISTRY]
    code = [bp.name for bp in registry.all() if not registry.is_registered(bp.name)]
    routes_ = {(bp.api_version, bp.api_endpoint): bp.name for bp in registry.all()}
    known = await _known_task_types(request)
    try:
        sub = submitted.read(
            raw, request.content_type, taken=code, routes=routes_, known_task_types=known
        )
    except submitted.Invalid as exc:
        raise BadRequest(
            f"the blueprint is not valid ({len(exc.problems)} problem(s))",
            code="BLUEPRINT_INVALID",
            details={"problems": exc.problems},
        ) from None
    _check_routes(sub.blueprint, registry.all())  # before it is stored, not when it is served
    return sub


def _check_routes(bp: Blueprint, served: list[Blueprint]) -> None:
    """Declared routes join the router at start-up only; and no create route may lie under
    a route a served blueprint declares (that route would answer in its place)."""
    if bp.routes:
        problem = {
            "path": "routes",
            "message": "routes are served only for blueprints loaded "
            "at start-up (--blueprints), not for ones registered over HTTP",
        }
        raise BadRequest(
            "the blueprint is not valid (1 problem(s))",
            code="BLUEPRINT_INVALID",
            details={"problems": [problem]},
        )
    clash = route_clash(bp, [b for b in served if b.name != bp.name])
    if clash:
        raise Conflict(clash, code="BLUEPRINT_ROUTE_TAKEN")


async def _known_task_types(request: web.Request) -> set[str]:
    """Task types a worker offers now, or that were ever queued."""
    store, settings = request.app[STORE], request.app[SETTINGS]
    known = await store.task_types()
    for info, _ in await store.live_workers(settings.workers.ttl_s):
        known.update(info.get("supported_skills", ()))
    return known


async def _save(request: web.Request, sub: submitted.Submission, *, create: bool) -> web.Response:
    mirror = request.app[MIRROR]
    bp = sub.blueprint
    record = Record(bp.name, bp.version, sub.kind, sub.source, time.time(), request[CLIENT])
    try:
        entry, changed = await mirror.store.save(record, create=create)
    except Changed as exc:
        if exc.entry is None:
            missing = f"no registered blueprint {bp.name!r}"
            raise NotFound(missing, code="BLUEPRINT_NOT_FOUND") from None
        raise Conflict(
            f"blueprint {bp.name!r} is registered already with version {exc.entry.current}; "
            f"PUT /api/v1/blueprints/{bp.name} registers a new version",
            code="BLUEPRINT_EXISTS",
            details={"current": exc.entry.current},
        ) from None
    try:
        mirror.install(bp, sub.built)
    except ValueError as exc:  # another name took the route a moment ago, in another process
        raise Conflict(str(exc), code="BLUEPRINT_ROUTE_TAKEN") from None
    body = _answer(bp, sub, entry, changed)
    return json_response(body, status=201 if changed else 200)


def _answer(
    bp: Blueprint, sub: submitted.Submission, entry: Entry, changed: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": bp.name,
        "version": bp.version,
        "kind": sub.kind,
        "changed": changed,
        "endpoint": f"/api/{bp.api_version}/{bp.api_endpoint}",
        "versions": entry.versions,
        "graph": graph_of(bp),
    }
    if sub.built is not None:
        body["temp_id_mapping"] = sub.built.compiled.steps
        body["nodes"] = [
            {"temp_id": n.temp_id, "name": n.name, "role_id": n.role, "step": n.name}
            for n in sub.built.workflow.nodes
        ]
    return body


def graph_of(bp: Blueprint) -> dict[str, Any]:
    return {
        "start": bp.start_state,
        "end": sorted(s.name for s in bp.states.values() if s.end),
        "states": sorted(bp.states),
        "edges": sorted([s.name, t] for s in bp.states.values() for t in s.targets),
        "dot": bp.to_dot(),
    }


@routes.post("/api/v1/blueprints")
async def register(request: web.Request) -> web.Response:
    _manager(request)
    return await _save(request, await _submission(request), create=True)


@routes.put("/api/v1/blueprints/{name}")
async def replace(request: web.Request) -> web.Response:
    _manager(request)
    name = request.match_info["name"]
    sub = await _submission(request)
    if sub.blueprint.name != name:
        where = "workflow.name" if sub.kind == "workflow" else "blueprint"
        problem = {"path": where, "message": f"names {sub.blueprint.name!r}, not {name!r}"}
        raise BadRequest(
            "the document names another blueprint",
            code="BLUEPRINT_INVALID",
            details={"problems": [problem]},
        )
    return await _save(request, sub, create=False)


@routes.delete("/api/v1/blueprints/{name}")
async def retire(request: web.Request) -> web.Response:
    _manager(request)
    name = request.match_info["name"]
    mirror = request.app[MIRROR]
    if request.app[REGISTRY].get(name) is not None and not request.app[REGISTRY].is_registered(
        name
    ):
        raise Conflict(
            f"{name!r} is a code-defined blueprint; only registered ones can be retired",
            code="BLUEPRINT_NOT_REGISTERED",
        )
    try:
        entry, changed = await mirror.store.retire(name)
    except Changed:
        raise NotFound(f"no registered blueprint {name!r}", code="BLUEPRINT_NOT_FOUND") from None
    await mirror.apply(name, entry)
    return typed_response(BlueprintRetired(name, True, changed, entry.versions))


@routes.get("/api/v1/blueprints/{name}")
async def describe(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    registry, mirror = request.app[REGISTRY], request.app[MIRROR]
    entry = await mirror.store.entry(name)
    if entry is None:
        bp = registry.get(name)
        if bp is None or bp.api_version == "internal":
            raise NotFound(f"no blueprint {name!r}", code="BLUEPRINT_NOT_FOUND")
        return json_response(
            {
                "name": name,
                "source": "file",
                "version": bp.version,
                "endpoint": f"/api/{bp.api_version}/{bp.api_endpoint}",
                "versions": [bp.version],
                "graph": graph_of(bp),
            }
        )
    return json_response(await _registered_view(request, name, entry))


class BlueprintQuery(Struct, kw_only=True):
    version: (
        Annotated[str, Meta(description="An earlier version (the current one if none).")] | None
    ) = None


async def _registered_view(request: web.Request, name: str, entry: Entry) -> dict[str, Any]:
    mirror = request.app[MIRROR]
    wanted = queries.parse(request.query, BlueprintQuery).version or entry.current
    if wanted not in entry.versions:
        raise NotFound(f"blueprint {name!r} has no version {wanted!r}", code="VERSION_NOT_FOUND")
    records = await mirror.store.records(name, entry.versions)
    record = next(r for r in records if r.version == wanted)
    bp = await request.app[REGISTRY].find_version(name, wanted)
    if bp is None:
        raise NotFound(f"blueprint {name!r} version {wanted} cannot be loaded here")
    built = mirror.compiled(name, wanted)
    return {
        "name": name,
        "source": "registered",
        "kind": entry.kind,
        "version": wanted,
        "current": entry.current,
        "retired": entry.retired,
        "endpoint": f"/api/{bp.api_version}/{bp.api_endpoint}",
        "versions": [
            {
                "version": r.version,
                "registered_at": iso(r.registered_at),
                "registered_by": r.registered_by,
            }
            for r in records
        ],
        "definition": submitted.definition(record.kind, record.source, built),
        "graph": graph_of(bp),
    }
