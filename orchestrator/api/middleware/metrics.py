"""The outermost middleware: counts every answer by route group and status, and times it."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from orchestrator.api.middleware.handler import Handler
from orchestrator.appkeys import METRICS

_GROUPS = (("/_public/", "public"), ("/api/", "api"), ("/_worker/", "worker"))


def route_group(path: str) -> str:
    """The API group of a path. Labels never carry the path itself: ids in paths would make
    the number of series grow without bound."""
    for prefix, group in _GROUPS:
        if path.startswith(prefix):
            return group
    return "other"


@web.middleware
async def http_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost middleware, so it counts the status the client gets, errors included."""
    group = route_group(request.path)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # redirects; the errors middleware renders the rest
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = 0  # the client went away: there is no answer to count
        raise
    finally:
        if status:
            request.app[METRICS].http_request(group, status, time.perf_counter() - started)
