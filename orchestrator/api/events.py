"""/api: a job's history, and the same events live as Server-Sent Events."""

from __future__ import annotations

import asyncio
import functools
from typing import Annotated, NoReturn

import orjson
from aiohttp import web
from msgspec import Meta, Struct
from redis.exceptions import RedisError

from orchestrator import sse
from orchestrator.api import queries
from orchestrator.api.middleware import CLIENT
from orchestrator.api.render import event_view, json_response
from orchestrator.appkeys import JOB_WAITERS, RUNNER, STORE
from orchestrator.dispatch.job_waiters import Woken
from orchestrator.errors import BadRequest

routes = web.RouteTableDef()

KEEPALIVE_S = 15.0
OUTAGE_RETRY_S = 0.5
"""While storage is unreachable an open stream re-reads its job this often (or sooner, when
the bus is back and wakes every waiter): a stream outlives a Redis restart, as waits do."""


@routes.get("/api/v1/jobs/{job_id}/history")
async def history(request: web.Request) -> web.Response:
    job = await request.app[RUNNER].get(request.match_info["job_id"], request[CLIENT])
    return json_response([event_view(e) for e in job.history])


class EventsQuery(Struct, kw_only=True):
    last_event_id: Annotated[int, Meta(description="As `Last-Event-ID`.")] = 0


def _resume_problem(_: object) -> NoReturn:
    raise BadRequest(
        "Last-Event-ID must be an event id (an integer)",
        code="VALIDATION_ERROR",
        details={"field": "Last-Event-ID"},
    )


def _last_event_id(request: web.Request) -> int:
    """``Last-Event-ID`` (when sent) or ``?last_event_id=``; 0 (from the first) below 0."""
    parsed = queries.parse(
        queries.resumed(request), EventsQuery, {"last_event_id": _resume_problem}
    )
    return max(0, parsed.last_event_id)


@routes.get("/api/v1/jobs/{job_id}/events")
async def events(request: web.Request) -> web.StreamResponse:
    """Every event after ``Last-Event-ID`` (default: from the first), then new ones as they
    happen; the stream ends after the job's terminal event."""
    job_id = request.match_info["job_id"]
    await request.app[RUNNER].get(job_id, request[CLIENT])  # 404 unless the caller's job
    sent = _last_event_id(request)
    await request.app[STORE].watch(job_id)
    # A client leaving the stream is no error: sse.stream ends it quietly.
    return await sse.stream(request, functools.partial(_stream, request, job_id, sent))


async def _stream(
    request: web.Request, job_id: str, sent: int, response: web.StreamResponse
) -> None:
    """Writes events after ``sent`` until the job's terminal event or shutdown."""
    runner = request.app[RUNNER]
    waiters = request.app[JOB_WAITERS]
    while True:
        changed = waiters.register(job_id)
        try:
            try:
                job = await runner.get(job_id, request[CLIENT])
            except RedisError:
                # The 200 is sent already: an error answer is impossible, and ending the
                # stream would leave the client to notice and reconnect. Keep it open.
                if waiters.closed:
                    break
                await _pause(changed, OUTAGE_RETRY_S)
                await response.write(b": storage unreachable, retrying\n\n")
                continue
            for event in job.history[sent:]:
                body = orjson.dumps(event_view(event))
                await response.write(sse.frame(body, event=event["type"], event_id=event["id"]))
                sent = event["id"]
            if job.terminal or waiters.closed:
                break
            if not await _pause(changed, KEEPALIVE_S):
                await response.write(b": keep-alive\n\n")
        finally:
            waiters.forget(job_id, changed)


async def _pause(changed: Woken, seconds: float) -> bool:
    """Waits for the job's next change, up to ``seconds``; whether it came."""
    try:
        await asyncio.wait_for(asyncio.shield(changed), seconds)
    except TimeoutError:
        return False
    return True
