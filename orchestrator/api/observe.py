"""HTTP metrics (a middleware) and the Prometheus scrape endpoint."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from orchestrator.api.middleware import Handler
from orchestrator.appkeys import METRICS

routes = web.RouteTableDef()

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


@routes.get("/_public/metrics")
async def metrics(request: web.Request) -> web.Response:
    collected = request.app[METRICS]
    # prometheus-client collects synchronously: the Redis-backed gauges are read first.
    await collected.refresh()
    return web.Response(body=collected.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})
