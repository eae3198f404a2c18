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
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from orchestrator.api import schemas
from orchestrator.api.decode import invalid
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
"""Unix seconds, as the query may give a time instead of ISO 8601 (also in the OpenAPI)."""


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


def moment_ms(raw: str | None, field: str) -> int | None:
    """A query's instant in ms since the epoch: ISO 8601 with a zone, as the API writes
    timestamps (``2026-11-30T15:04:05.123Z``), or Unix seconds (``1796051045.123``)."""
    if not raw:
        return None
    if re.fullmatch(EPOCH_SECONDS, raw):
        seconds = float(raw)
    else:
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise invalid(
                field, "expected ISO 8601 (2026-11-30T15:04:05Z) or Unix seconds"
            ) from None
        if moment.tzinfo is None:
            raise invalid(field, "an ISO 8601 time needs its zone: Z or +hh:mm")
        seconds = moment.timestamp()
    # The index keeps creation times in whole ms, as the API renders them.
    return round(seconds * 1000)


def filters(query: MultiMapping[str]) -> Filters:
    status = query.get("status") or None
    if status is not None and status not in JobStatus.__members__.values():
        allowed = ", ".join(s.value for s in JobStatus)
        raise invalid("status", f"unknown status (allowed: {allowed})")
    after = moment_ms(query.get("created_after"), "created_after")
    before = moment_ms(query.get("created_before"), "created_before")
    needle = query.get("id") or None
    if needle is not None and len(needle) > MAX_ID_SEARCH:
        raise invalid("id", f"at most {MAX_ID_SEARCH} characters")
    return Filters(
        limit=schemas.int_query(query.get("limit"), "limit", 50, 1, 500),
        offset=schemas.int_query(query.get("offset"), "offset", 0, 0, 10**9),
        blueprint=query.get("blueprint") or None,
        status=status,
        after_ms=after,
        before_ms=before,
        needle=needle.lower() if needle else None,  # ids are lower-case
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
