"""/api: blueprints and their graphs."""

from __future__ import annotations

from aiohttp import web

from orchestrator.api.render import json_response
from orchestrator.appkeys import REGISTRY
from orchestrator.blueprint.routes import kind
from orchestrator.errors import NotFound

routes = web.RouteTableDef()


@routes.get("/api/v1/blueprints")
async def list_blueprints(request: web.Request) -> web.Response:
    registry = request.app[REGISTRY]
    body = [
        {
            "name": bp.name,
            "version": bp.version,
            "endpoint": f"/api/{bp.api_version}/{bp.api_endpoint}",
            "states": sorted(bp.states),
            "start": bp.start_state,
            "end": sorted(s.name for s in bp.states.values() if s.end),
            "source": "registered" if registry.is_registered(bp.name) else "file",
            "versions": registry.versions(bp.name),
            "routes": [{"kind": kind(r), "method": r.method, "path": r.path} for r in bp.routes],
        }
        for bp in registry.all()
    ]
    return json_response(body)


@routes.get("/api/v1/blueprints/{name}/graph")
async def graph(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    bp = request.app[REGISTRY].get(name)
    if bp is None:
        raise NotFound(f"no blueprint {name!r}", code="BLUEPRINT_NOT_FOUND")
    return web.Response(text=bp.to_dot(), content_type="text/vnd.graphviz")
