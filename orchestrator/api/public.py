"""/_public: no token."""

from __future__ import annotations

from aiohttp import web
from redis.exceptions import RedisError

from orchestrator.api.render import json_response
from orchestrator.appkeys import DISPATCHER, STORE

routes = web.RouteTableDef()


@routes.get("/_public/status")
async def status(request: web.Request) -> web.Response:
    try:
        await request.app[STORE].ping()
    except (RedisError, OSError) as exc:
        body = {
            "status": "unavailable",
            "error": {"code": "STORAGE_UNAVAILABLE", "message": str(exc)},
        }
        return json_response(body, status=503)
    return json_response({"status": "ok", "parked_polls": request.app[DISPATCHER].waiting})
