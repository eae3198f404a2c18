"""/_worker/tasks/progress: a running task says how far it got (``shell/progress.py``)."""

from __future__ import annotations

from aiohttp import web

from orchestrator.api import schemas
from orchestrator.api.middleware import read_json, require_worker
from orchestrator.api.render import json_response
from orchestrator.appkeys import RUNNER
from orchestrator.shell import progress

routes = web.RouteTableDef()


@routes.post("/_worker/tasks/progress")
async def report(request: web.Request) -> web.Response:
    body = schemas.task_progress(await read_json(request))
    require_worker(request, body["worker_id"])
    answer = await progress.report(request.app[RUNNER], body["worker_id"], body)
    return json_response({"status": answer})
