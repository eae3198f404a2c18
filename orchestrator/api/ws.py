"""/_worker/ws/{worker_id}: the command channel to a worker (``cancel_task``)."""

from __future__ import annotations

from aiohttp import WSMsgType, web

from orchestrator.api.middleware import require_worker
from orchestrator.appkeys import SOCKETS
from orchestrator.errors import BadRequest

routes = web.RouteTableDef()


@routes.get("/_worker/ws/{worker_id}")
async def commands(request: web.Request) -> web.WebSocketResponse:
    worker_id = request.match_info["worker_id"]
    require_worker(request, worker_id)
    ws = web.WebSocketResponse(heartbeat=20.0)
    if not ws.can_prepare(request).ok:
        raise BadRequest(
            "this route is a WebSocket: send the upgrade handshake (Upgrade: websocket, "
            "Connection: Upgrade, Sec-WebSocket-Version: 13, Sec-WebSocket-Key)",
            code="WEBSOCKET_HANDSHAKE_REQUIRED",
        )
    await ws.prepare(request)
    table = request.app[SOCKETS]
    await table.attach(worker_id, ws)
    try:
        async for message in ws:
            if message.type == WSMsgType.ERROR:
                break
            # Workers have nothing to say on this channel yet; anything sent is ignored.
    finally:
        await table.detach(worker_id, ws)
    return ws
