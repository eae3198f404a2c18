"""Serving the routes blueprints declare (``orchestrator/blueprint/routes.py``).

Each declared route becomes one aiohttp route, added before the catch-all create route. The
job it starts or acts on is an ordinary job: it is created by the runner and decided on by the
human desk, exactly as ``POST /api/{version}/{endpoint}`` and ``POST .../decision`` do, so
history, events, webhooks and metrics follow. Only the request and answer shapes differ.

Errors raised before the handler (the middleware's 401 of a bad token, 413 of a body too large)
are also answered in the route's shape: the middleware (``middleware/front.py``) asks
``ERROR_SHAPES`` for the route's renderer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from orchestrator.api import human_bodies, route_forms
from orchestrator.api.job_wait import wait_ended
from orchestrator.api.jobs import _idempotent_job_id, create_job
from orchestrator.api.middleware import CLIENT, ERROR_SHAPES, Handler, read_json, streams_body
from orchestrator.api.render import job_view, json_response
from orchestrator.appkeys import REGISTRY, RUNNER, STORE
from orchestrator.blueprint import templates
from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.route_clashes import overlap, same_method
from orchestrator.blueprint.routes import (
    ActionRoute,
    Body,
    ReadRoute,
    Reply,
    Route,
    StartRoute,
    param_of,
    status_name,
)
from orchestrator.engine import human
from orchestrator.engine.model import Job, JobStatus
from orchestrator.engine.new_job import NewJob
from orchestrator.errors import BadRequest, Conflict, NotFound, OrchestratorError
from orchestrator.ids import new_uuid
from orchestrator.shell import human_steps
from orchestrator.shell.human_steps import Decision

JOB_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
"""A job id a client chooses (``job_id_from``): it goes into Redis keys, so no braces."""

URLENCODED = "application/x-www-form-urlencoded"
JSON_MEDIA = "application/json"
_INVALID = ("INVALID_DECISION", "VALIDATION_ERROR", "ROLE_MISMATCH")


class UnsupportedMediaType(OrchestratorError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


def route_table(
    blueprints: Iterable[Blueprint], builtin: Iterable[web.RouteDef]
) -> list[web.RouteDef]:
    """The aiohttp routes of every declared route; ``ValueError`` when one clashes with a
    built-in route (the catch-all create route aside: declared routes come before it)."""
    taken = [
        (r.method, r.path)
        for r in builtin
        if r.path.startswith("/api/") and r.handler is not create_job
    ]
    table = []
    for bp in blueprints:
        for route in bp.routes:
            for method, path in taken:
                if same_method(route.method, method) and overlap(route.path, path):
                    raise ValueError(
                        f"blueprint {bp.name!r}: route {route.method} {route.path} clashes with "
                        f"the built-in route {method} {path}"
                    )
            table.append(web.route(route.method, route.path, _handler(bp.name, route)))
    return table


def _handler(blueprint: str, route: Route) -> Handler:
    serve: Handler
    if isinstance(route, StartRoute):

        async def serve(request: web.Request) -> web.StreamResponse:
            return await _start(request, blueprint, route)

        if route.files is not None:
            serve = streams_body(serve)  # file parts are bounded by s3_max_upload_bytes
    elif isinstance(route, ActionRoute):

        async def serve(request: web.Request) -> web.StreamResponse:
            return await _act(request, blueprint, route)

    else:

        async def serve(request: web.Request) -> web.StreamResponse:
            return await _read(request, blueprint, route)

    ERROR_SHAPES[serve] = lambda request, exc: _refused(request, route, exc)
    return serve


# -- rendering ------------------------------------------------------------------------------


def _render(body: Body, data: Mapping[str, Any]) -> Any:
    if callable(body):
        return body(data)
    return templates.render(body, data)


def _data(
    route: Route, job: Job | None, *, ident: str | None = None, error: Any = None
) -> dict[str, Any]:
    """What a body sees (``routes.ROOTS``)."""
    if job is None:
        return {"id": ident, "job_id": None, "job": None, "status": None, "error": error}
    last = human.last_decision(job)
    return {
        "id": ident if ident is not None else job.id,
        "job_id": job.id,
        "job": job_view(job),
        "status": status_name(route.statuses, job, last["decision"] if last else None),
        "status_url": f"/api/v1/jobs/{job.id}",
        "result": job.result,
        "error": error if error is not None else job.error,
        "initial_data": job.initial_data,
        "context": job.context,
        "results": job.results,
        "decision": last,
    }


def _error(exc: OrchestratorError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message, "details": exc.details}


def _reply(reply: Reply, data: Mapping[str, Any]) -> web.Response:
    return json_response(_render(reply.body, data), status=reply.status)


def _refused(request: web.Request, route: Route, exc: OrchestratorError) -> web.Response:
    """A refusal before any job is at hand, in the route's error shape."""
    body = route.failure if isinstance(route, StartRoute) else route.error
    if body is None:
        return json_response(exc.to_body(), status=exc.status)
    ident = request.match_info.get(param_of(route) or "")
    return json_response(
        _render(body, _data(route, None, ident=ident, error=_error(exc))), status=exc.status
    )


# -- start ----------------------------------------------------------------------------------


async def _start(request: web.Request, blueprint: str, route: StartRoute) -> web.Response:
    bp = request.app[REGISTRY].get(blueprint)
    if bp is None:  # only file-loaded blueprints declare routes, and those stay
        raise NotFound(f"no blueprint {blueprint!r}", code="BLUEPRINT_NOT_FOUND")
    client = request[CLIENT]
    initial, job_id = await _initial(request, route)
    actor = request.headers.get(route.actor_header) if route.actor_header else None
    if actor and "actor" not in initial:
        initial["actor"] = actor
    runner = request.app[RUNNER]
    job = await request.app[STORE].load(job_id)
    if job is None:
        job, _ = await runner.create(bp, client, NewJob(initial_data=initial), job_id=job_id)
    if job.client != client or job.blueprint != bp.name:
        # the same id again names the same job; an id another process's job holds does not
        raise Conflict(f"job id {job_id} is taken", code="JOB_ID_TAKEN", details={"field": "id"})
    if route.wait_s and not job.terminal:
        job = await wait_ended(request.app, job.id, client, route.wait_s)
    return _outcome(route, job)


async def _initial(request: web.Request, route: StartRoute) -> tuple[dict[str, Any], str]:
    """(``initial_data``, the job's id) from a form (when the route takes one) or JSON."""
    media = request.content_type
    if route.form is not None and media == "multipart/form-data":

        async def settle(fields: dict[str, Any]) -> str:
            return await _job_id(request, route, fields)

        return await route_forms.read_form(request, route, settle)
    if route.form is not None and media == URLENCODED:
        fields = await route_forms.read_urlencoded(request, route)
        return fields, await _job_id(request, route, fields)
    if media in ("multipart/form-data", URLENCODED):
        raise UnsupportedMediaType(
            f"this route takes a JSON body, not {media}", details={"accepted": [JSON_MEDIA]}
        )
    # Any other media type is read as JSON, as the create route does (curl -d sends none).
    body = await read_json(request, required=False)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="VALIDATION_ERROR")
    return body, await _job_id(request, route, body)


def _outcome(route: StartRoute, job: Job) -> web.Response:
    if job.status == JobStatus.FINISHED:
        return json_response(_render(route.result, _data(route, job)), status=200)
    if not job.terminal:
        return json_response(_render(route.accepted, _data(route, job)), status=202)
    error = dict(job.error or {})
    code = str(error.get("code") or f"JOB_{job.status.value.upper()}")
    message = str(error.get("message") or f"the job ended {job.status.value}")
    status = route.errors.get(code)
    if status is None:
        # An unmapped code is an internal failure for the client system: say so, and keep the
        # cause findable (the job's id and code) rather than the job's private wording alone.
        status = 500
        error = {
            "code": "INTERNAL_ERROR",
            "message": f"internal error: job {job.id} ended {job.status.value} with {code}: "
            + message,
            "details": {"job_id": job.id, "cause": code},
        }
    else:
        error = {"code": code, "message": message, "details": error.get("details") or {}}
    return json_response(_render(route.failure, _data(route, job, error=error)), status=status)


async def _job_id(request: web.Request, route: StartRoute, body: Mapping[str, Any]) -> str:
    for source in route.job_id_from:
        where, _, name = source.partition(".")
        given = request.headers.get(name) if where == "header" else body.get(name)
        if given is None or given == "":
            continue
        if not isinstance(given, str) or not JOB_ID.fullmatch(given):
            raise BadRequest(
                f"{name}: a job id is 1-128 letters, digits and . _ : -",
                code="VALIDATION_ERROR",
                details={"field": name},
            )
        return given
    job_id = new_uuid()
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        job_id = await _idempotent_job_id(request, key, route.path, dict(body), job_id)
    return job_id


# -- act and read ---------------------------------------------------------------------------


async def _own_job(request: web.Request, blueprint: str, route: ActionRoute | ReadRoute) -> Job:
    job_id = request.match_info[param_of(route) or ""]
    job = await request.app[RUNNER].get(job_id, request[CLIENT])
    if job.blueprint != blueprint:  # another process's job is not this route's to show
        raise NotFound(f"no job {job_id}", code="JOB_NOT_FOUND")
    return job


async def _act(request: web.Request, blueprint: str, route: ActionRoute) -> web.Response:
    ident = request.match_info[param_of(route) or ""]
    runner = request.app[RUNNER]
    try:
        job = await _own_job(request, blueprint, route)
        decision = _decision(request, route, await read_json(request, required=False))
        await human_steps.decide(runner, job.id, decision, client=request[CLIENT], token=None)
        job = await runner.get(job.id, request[CLIENT])
    except OrchestratorError as exc:
        reply = _error_reply(route, exc)
        if reply is None:
            raise
        found = await request.app[STORE].load(ident) if exc.code != "JOB_NOT_FOUND" else None
        return _reply(reply, _data(route, found, ident=ident, error=_error(exc)))
    return _reply(route.ok, _data(route, job, ident=ident))


def _error_reply(route: ActionRoute, exc: OrchestratorError) -> Reply | None:
    if exc.code == "JOB_NOT_FOUND":
        return route.not_found
    if exc.code == "NOT_WAITING_FOR_HUMAN":
        return route.not_waiting
    if exc.code in _INVALID:
        return route.invalid
    return None


def _decision(request: web.Request, route: ActionRoute, body: object) -> Decision:
    given = dict(body) if isinstance(body, dict) else {} if body is None else body
    if isinstance(given, dict):
        if route.decision is not None:
            given.setdefault("decision", route.decision)
            if given["decision"] != route.decision:
                raise BadRequest(
                    f"decision: this route takes {route.decision!r}",
                    code="VALIDATION_ERROR",
                    details={"field": "decision"},
                )
        if route.actor_header and "actor" not in given and request.headers.get(route.actor_header):
            given["actor"] = request.headers[route.actor_header]
    # A client system's body may hold keys of its own (seed 003 sends ``transition``): the
    # decision takes the keys it knows and leaves the others, as the approval webhook does.
    return human_bodies.decision(given, webhook=True)


async def _read(request: web.Request, blueprint: str, route: ReadRoute) -> web.Response:
    ident = request.match_info[param_of(route) or ""]
    try:
        job = await _own_job(request, blueprint, route)
    except NotFound as exc:
        if route.not_found is None:
            raise
        return _reply(route.not_found, _data(route, None, ident=ident, error=_error(exc)))
    return _reply(route.ok, _data(route, job, ident=ident))
