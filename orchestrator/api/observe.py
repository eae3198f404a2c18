"""The Prometheus scrape endpoint (HTTP requests are counted by ``middleware/front.py``)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from orchestrator.appkeys import METRICS

routes = web.RouteTableDef()


@routes.get("/_public/metrics")
async def metrics(request: web.Request) -> web.Response:
    collected = request.app[METRICS]
    # prometheus-client collects synchronously: the Redis-backed gauges are read first.
    await collected.refresh()
    return web.Response(body=collected.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})
