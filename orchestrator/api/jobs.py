"""/api: jobs of the calling client."""

from __future__ import annotations

import difflib
import hashlib
from typing import Annotated, Any

import orjson
from aiohttp import web
from msgspec import Meta, Struct

from orchestrator.api import hot, job_list, queries, schemas
from orchestrator.api.job_wait import wait_ended
from orchestrator.api.middleware import CLIENT, read_json
from orchestrator.api.render import job_view, json_response
from orchestrator.appkeys import JOB_WAITERS, REGISTRY, RUNNER, SETTINGS, STORE
from orchestrator.engine.model import Job
from orchestrator.errors import BadRequest, Conflict, Gone, NotFound
from orchestrator.ids import new_uuid

routes = web.RouteTableDef()


@routes.get("/api/v1/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    return await job_list.list_jobs(request)


MAX_WAIT_S = 60.0
_WAIT = f"Wait up to this many seconds (at most {MAX_WAIT_S:g}) for the job to end first."


class JobQuery(Struct, kw_only=True):
    wait: Annotated[float, Meta(ge=0, description=_WAIT)] = 0.0

    def __post_init__(self) -> None:
        self.wait = min(self.wait, MAX_WAIT_S)  # a longer wait is cut short, not refused


@hot.routes.get("/api/v1/jobs/{job_id}")  # tried first (hot.py)
async def get_job(request: web.Request) -> web.Response:
    """The job's status; with ``?wait=S``, first waits up to S seconds for it to end."""
    job_id, runner = request.match_info["job_id"], request.app[RUNNER]
    wait_s = queries.parse(request.query, JobQuery).wait
    if not wait_s:
        job = request.app[JOB_WAITERS].final(job_id, request[CLIENT])
        if job is None:
            job = await runner.get(job_id, request[CLIENT])
        return json_response(_view(request, job))
    job = await wait_ended(request.app, job_id, request[CLIENT], wait_s)
    return json_response(_view(request, job))


@routes.post("/api/v1/jobs/{job_id}/cancel")
async def cancel_job(request: web.Request) -> web.Response:
    answer = await request.app[RUNNER].cancel(request.match_info["job_id"], request[CLIENT])
    return json_response({"status": answer, "job_id": request.match_info["job_id"]})


def _no_blueprint(app: web.Application, route: str) -> NotFound:
    """A typo in a route is the usual reason: name the nearest one (the client may list them
    all with GET /api/v1/blueprints anyway)."""
    served = [f"/api/{bp.api_version}/{bp.api_endpoint}" for bp in app[REGISTRY].all()]
    near = difflib.get_close_matches(route, served, n=1, cutoff=0.8)
    hint = f"; did you mean {near[0]}?" if near else ""
    return NotFound(
        f"no blueprint answers {route}{hint} (GET /api/v1/blueprints lists them)",
        code="BLUEPRINT_NOT_FOUND",
    )


@routes.post("/api/{version}/{endpoint:.+}")
async def create_job(request: web.Request) -> web.Response:
    version, endpoint = request.match_info["version"], request.match_info["endpoint"]
    bp = request.app[REGISTRY].for_route(version, endpoint)
    retired = request.app[REGISTRY].retired(version, endpoint) if bp is None else None
    if retired is not None:
        raise Gone(
            f"blueprint {retired!r} is retired: it takes no new jobs (running ones finish)",
            code="BLUEPRINT_RETIRED",
        )
    if bp is None:
        raise _no_blueprint(request.app, f"/api/{version}/{endpoint}")
    body = await read_json(request, required=False)
    new = schemas.new_job(body, request.app[SETTINGS])
    runner, client = request.app[RUNNER], request[CLIENT]
    key = request.headers.get("Idempotency-Key")
    job_id = None  # the runner draws a new UUID, which no other job can hold
    if key is not None:
        job_id = await _idempotent_job_id(request, key, f"{version}/{endpoint}", body, new_uuid())
        existing = await request.app[STORE].load(job_id)
        if existing is not None:
            return json_response(_view(request, existing), status=200)
    job, created = await runner.create(bp, client, new, job_id=job_id)
    if not created:
        return json_response(_view(request, job), status=200)
    return json_response({"status": "accepted", "job_id": job.id}, status=202)


async def _idempotent_job_id(
    request: web.Request, key: str, route: str, body: object, job_id: str
) -> str:
    """The job id this client's ``Idempotency-Key`` stands for: a new one, or the earlier."""
    if not schemas.IDEMPOTENCY_KEY.match(key):
        raise BadRequest(
            "Idempotency-Key must be 1-255 visible ASCII characters (inner spaces allowed)",
            code="VALIDATION_ERROR",
            details={"field": "Idempotency-Key"},
        )
    canonical = orjson.dumps({"route": route, "body": body}, option=orjson.OPT_SORT_KEYS)
    fingerprint = hashlib.sha256(canonical).hexdigest()[:32]
    hashed = hashlib.sha256(key.encode()).hexdigest()
    settings = request.app[SETTINGS]
    earlier = await request.app[STORE].idempotency_claim(
        request[CLIENT], hashed, f"{job_id}|{fingerprint}", settings.retention_s
    )
    if earlier is None:
        return job_id
    earlier_id, _, earlier_fingerprint = earlier.partition("|")
    if earlier_fingerprint != fingerprint:
        raise Conflict(
            "this Idempotency-Key was used with a different request body",
            code="IDEMPOTENCY_KEY_REUSED",
            details={"job_id": earlier_id},
        )
    return earlier_id


def _view(request: web.Request, job: Job) -> dict[str, Any]:
    # One job's answer carries its data too; the list leaves them out to stay light.
    view = job_view(job, request.app[RUNNER].approval_token(job))
    return {**view, "initial_data": job.initial_data, "data": job.context}


@routes.post("/api/v1/jobs/{job_id}/retry")
async def retry_job(request: web.Request) -> web.Response:
    job = await request.app[RUNNER].retry(request.match_info["job_id"], request[CLIENT])
    return json_response(_view(request, job))
