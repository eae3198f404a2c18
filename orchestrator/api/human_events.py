"""/api: the calling client's inbox changes as Server-Sent Events, resumable.

Every commit that changes a client's inbox appends an entry to the client's Redis stream
(``human/index.py``) and publishes the client's name on the ``inbox`` channel. Open streams
are parked in memory per client (no Redis connection each); a message wakes them and each
reads the stream after the last id it sent. The SSE ``id`` is the stream entry id, so a UI
that reconnects with ``Last-Event-ID`` misses nothing the stream still holds; when its id is
older than the stream's first entry (trimmed), it gets a ``reset`` event and should reload
the inbox. A stream lasts ``wait`` seconds (default ``DEFAULT_WAIT_S``) and then ends, so that
no proxy or load balancer holds it for ever; ``EventSource`` reconnects by itself, with the
last id. ``wait=0`` sends what is there and ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, NoReturn

import orjson
from aiohttp import web
from msgspec import Meta, Struct

from orchestrator import sse
from orchestrator.api import queries
from orchestrator.api.answers.human import STREAM_ID
from orchestrator.api.decode import invalid
from orchestrator.api.human_bodies import Name
from orchestrator.api.middleware import CLIENT
from orchestrator.appkeys import BUS, STORE
from orchestrator.dispatch.job_waiters import JobWaiters
from orchestrator.engine.human_spec import SpecError, name
from orchestrator.human.index import InboxKeys

routes = web.RouteTableDef()

INBOX_WAITERS = web.AppKey("inbox_waiters", JobWaiters)
KEEPALIVE_S = 15.0
DEFAULT_WAIT_S = 300.0
MAX_WAIT_S = 3600.0
BATCH = 200
_RESUME = "must be an event id from this stream (like 1700000000000-0)"
_AS_HEADER = "As `Last-Event-ID`."
_ROLE = "Only changes of steps for (or leaving) this role."
_WAIT = (
    f"Seconds the stream stays open (default {DEFAULT_WAIT_S:g}, at most {MAX_WAIT_S:g}; 0: what "
    "is there, then the end). Reconnect with `Last-Event-ID`."
)


class InboxEventsQuery(Struct, kw_only=True):
    """`GET /api/v1/human-tasks/events`; fields in the order a refusal names them."""

    role: Annotated[Name, Meta(description=_ROLE)] | None = None
    last_event_id: Annotated[str, Meta(pattern=STREAM_ID, description=_AS_HEADER)] | None = None
    wait: Annotated[float, Meta(ge=0, description=_WAIT)] = DEFAULT_WAIT_S

    def __post_init__(self) -> None:
        self.wait = min(self.wait, MAX_WAIT_S)  # a longer wait is cut short, not refused


def _role_problem(raw: object) -> str:
    # Says "role" twice ("role: role must be ..."), as the stream always has: kept for clients.
    try:
        name(raw, "role")
    except SpecError as exc:
        return str(exc)
    return "is invalid"


def _resume_problem(_: object) -> NoReturn:
    raise invalid("Last-Event-ID", _RESUME)  # the header's name: the query's stands in for it


def _query(request: web.Request) -> InboxEventsQuery:
    problems = {"role": _role_problem, "last_event_id": _resume_problem}
    return queries.parse(queries.resumed(request), InboxEventsQuery, problems)


def _id(value: str) -> tuple[int, int]:
    ms, _, seq = value.partition("-")
    return int(ms), int(seq or 0)


def _shown(event: dict[str, Any], role: str | None) -> bool:
    return role is None or role in (event.get("role"), event.get("previous_role"))


@routes.get("/api/v1/human-tasks/events")
async def inbox_events(request: web.Request) -> web.StreamResponse:
    client = request[CLIENT]
    query = _query(request)
    role, since = query.role, query.last_event_id
    ends = asyncio.get_running_loop().time() + query.wait
    redis: Any = request.app[STORE].redis
    key = InboxKeys(request.app[STORE].keys.prefix, client).events
    reset = False
    if since is None:  # from now on
        newest = await redis.xrevrange(key, count=1)
        since = newest[0][0].decode() if newest else "0-0"
    else:
        oldest = await redis.xrange(key, count=1)
        reset = bool(oldest) and _id(oldest[0][0].decode()) > _id(since) and since != "0-0"
    waiters = request.app[INBOX_WAITERS]

    async def write(response: web.StreamResponse) -> None:
        nonlocal since
        if reset:
            # the id stays the client's: until it reloads the inbox, a reconnect resets again
            await response.write(sse.frame("{}", event="reset", event_id=since))
        while not waiters.closed:
            changed = waiters.register(client)
            left = ends - asyncio.get_running_loop().time()
            try:
                rows = await redis.xrange(key, min=f"({since}", count=BATCH)
                for entry_id, fields in rows:
                    since = entry_id.decode()
                    event = orjson.loads(fields[b"data"])
                    if _shown(event, role):
                        body = orjson.dumps(event)
                        await response.write(sse.frame(body, event=event["type"], event_id=since))
                if len(rows) == BATCH:
                    continue
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(asyncio.shield(changed), min(KEEPALIVE_S, left))
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
            finally:
                waiters.forget(client, changed)

    # A client leaving the stream is no error: sse.stream ends it quietly.
    return await sse.stream(request, write)


async def inbox_context(app: web.Application) -> AsyncIterator[None]:
    """Wakes this process's inbox streams when any process changes a client's inbox."""
    waiters, bus = app[INBOX_WAITERS], app[BUS]
    channel = InboxKeys(app[STORE].keys.prefix, "-").channel
    await bus.subscribe(channel, waiters.ended)
    earlier = bus.on_reconnect

    def on_reconnect() -> None:
        # messages published while the pub/sub was away are lost: streams read again now
        if earlier is not None:
            earlier()
        waiters.wake_all()

    bus.on_reconnect = on_reconnect
    yield


async def close_streams(app: web.Application) -> None:
    app[INBOX_WAITERS].close()
