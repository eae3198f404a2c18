"""``GET /api/v1/jobs``: the calling client's jobs, newest first, filtered and paged.

What each filter costs in Redis is said in ``docs/api.md`` (List jobs): a created range is a
window of ranks of the client's index (``orchestrator.storage.job_index``); a search on ids
reads ids only and loads just the jobs whose id matches; blueprint and status are checked on
the loaded jobs. Each request does a bounded amount of work and says where to go on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from aiohttp import web
from msgspec import Meta, Struct

from orchestrator.api import queries
from orchestrator.api.decode import Problem
from orchestrator.api.middleware import CLIENT
from orchestrator.api.render import job_view, json_response
from orchestrator.appkeys import STORE
from orchestrator.engine.model import Job, JobStatus
from orchestrator.storage.job_index import ClientJobIndex

LOAD_LIMIT = 2000
"""Jobs one request may load while filtering by blueprint or status."""
ID_SCAN_LIMIT = 20_000
"""Index entries (ids only) one request may read while searching ids."""
ID_CHUNK = 1000
MAX_ID_SEARCH = 64
EPOCH_SECONDS = r"^\d{1,11}(?:\.\d{1,6})?$"
"""Unix seconds, the other way to give a time than ISO 8601 (the OpenAPI says it too)."""

Moment = Annotated[
    str, Meta(extra_json_schema={"anyOf": [{"format": "date-time"}, {"pattern": EPOCH_SECONDS}]})
]
"""ISO 8601 with its zone, or Unix seconds (``moment_ms``)."""
_STATUSES = ", ".join(s.value for s in JobStatus)
_AFTER = (
    "Only jobs created at or after this time: ISO 8601 with its zone, as the API writes times "
    "(2026-11-30T15:04:05.123Z), or Unix seconds. Millisecond precision."
)
_BEFORE = (
    "Only jobs created before this time (same forms). A range with nothing in it answers no jobs."
)
_ID = (
    "Only jobs whose id holds this text, in any case. A whole job id is found at once; a part "
    "is searched for in the index, a bounded stretch per request: follow next_offset until it "
    "is null."
)


class ListQuery(Struct, kw_only=True):
    """``GET /api/v1/jobs``; fields in the order a refusal names them."""

    status: Annotated[JobStatus, Meta(description="Only jobs in this status.")] | None = None
    created_after: Annotated[Moment, Meta(description=_AFTER)] | None = None
    created_before: Annotated[Moment, Meta(description=_BEFORE)] | None = None
    id: Annotated[str, Meta(max_length=MAX_ID_SEARCH, description=_ID)] | None = None
    limit: Annotated[int, Meta(ge=1, le=500, description="Page size")] = 50
    offset: Annotated[int, Meta(ge=0, le=10**9, description="Start")] = 0
    blueprint: Annotated[str, Meta(description="Only jobs of this blueprint.")] | None = None


_PROBLEMS: dict[str, Problem] = {
    "status": f"unknown status (allowed: {_STATUSES})",
    "id": f"at most {MAX_ID_SEARCH} characters",
}


@dataclass(frozen=True)
class Filters:
    limit: int
    offset: int
    blueprint: str | None
    status: str | None
    after_ms: int | None
    before_ms: int | None
    needle: str | None

    def keeps(self, job: Job) -> bool:
        return (self.blueprint is None or job.blueprint == self.blueprint) and (
            self.status is None or job.status == self.status
        )


def _moment_problem(raw: str) -> str | None:
    if re.fullmatch(EPOCH_SECONDS, raw):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return "expected ISO 8601 (2026-11-30T15:04:05Z) or Unix seconds"
    return None if moment.tzinfo is not None else "an ISO 8601 time needs its zone: Z or +hh:mm"


def _moments(field: str, value: object) -> str | None:
    if field in ("created_after", "created_before") and isinstance(value, str):
        return _moment_problem(value)
    return None


def moment_ms(raw: str | None) -> int | None:
    """A query's instant (checked by ``_moment_problem``) in ms since the epoch: ISO 8601
    with a zone, as the API writes timestamps (``2026-11-30T15:04:05.123Z``), or Unix
    seconds (``1796051045.123``)."""
    if raw is None:
        return None
    if re.fullmatch(EPOCH_SECONDS, raw):
        seconds = float(raw)
    else:
        seconds = datetime.fromisoformat(raw).timestamp()
    # The index keeps creation times in whole ms, as the API renders them.
    return round(seconds * 1000)


def filters(query: queries.Query) -> Filters:
    q = queries.parse(query, ListQuery, _PROBLEMS, _moments)
    return Filters(
        limit=q.limit,
        offset=q.offset,
        blueprint=q.blueprint,
        status=q.status,
        after_ms=moment_ms(q.created_after),
        before_ms=moment_ms(q.created_before),
        needle=q.id.lower() if q.id else None,  # ids are lower-case
    )


async def list_jobs(request: web.Request) -> web.Response:
    f = filters(request.query)
    store = request.app[STORE]
    index = ClientJobIndex(store, request[CLIENT])
    if f.needle is not None:
        # Every job id has the same length (a UUID), so a whole id matches only itself:
        # found in O(1) instead of a search.
        created = await index.created_ms(f.needle)
        if created is not None:
            return json_response(await _one(index, f, f.needle, created))
    start, end = await index.window(f.after_ms, f.before_ms)
    found: list[dict[str, Any]] = []
    position = f.offset  # within the window
    loaded = scanned = 0
    exhausted = False
    while len(found) < f.limit:
        if start + position >= end:
            exhausted = True
            break
        if loaded >= LOAD_LIMIT or scanned >= ID_SCAN_LIMIT:
            break
        chunk = ID_CHUNK if f.needle else f.limit
        ids = await index.ids(start + position, min(chunk, end - start - position))
        if not ids:
            exhausted = True
            break
        scanned += len(ids)
        wanted = [i for i in ids if f.needle in i] if f.needle else ids
        jobs = dict(zip(wanted, await store.load_many(wanted), strict=True)) if wanted else {}
        loaded += len(wanted)
        await index.forget([i for i, job in jobs.items() if job is None])
        for job_id in ids:
            if job_id in jobs and jobs[job_id] is None:
                end -= 1  # expired and forgotten: the entries after it moved up one rank
                continue
            position += 1
            job = jobs.get(job_id)
            if job is not None and f.keeps(job):
                found.append(job_view(job))
                if len(found) == f.limit:
                    break
    return json_response(_page(f, found, None if exhausted else position))


async def _one(index: ClientJobIndex, f: Filters, job_id: str, created: int) -> dict[str, Any]:
    in_range = (f.after_ms is None or created >= f.after_ms) and (
        f.before_ms is None or created < f.before_ms
    )
    found: list[dict[str, Any]] = []
    if in_range and f.offset == 0:
        job = await index.store.load(job_id)
        if job is None:
            await index.forget([job_id])
        elif f.keeps(job):
            found.append(job_view(job))
    return _page(f, found, None)


def _page(f: Filters, jobs: list[dict[str, Any]], next_offset: int | None) -> dict[str, Any]:
    return {"jobs": jobs, "offset": f.offset, "limit": f.limit, "next_offset": next_offset}
