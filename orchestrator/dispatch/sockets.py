"""The WebSockets of workers connected to this process, and how commands reach them.

Each connected worker gets a subscription on the process's one pub/sub connection, so a cancel
published by any orchestrator process reaches the process holding the socket.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from orchestrator.dispatch.bus import Bus
from orchestrator.storage.keys import Keys

log = logging.getLogger("orchestrator.ws")


class SocketTable:
    def __init__(self, bus: Bus, keys: Keys) -> None:
        self._bus = bus
        self._keys = keys
        self._sockets: dict[str, web.WebSocketResponse] = {}

    def __len__(self) -> int:
        return len(self._sockets)

    async def attach(self, worker_id: str, ws: web.WebSocketResponse) -> None:
        old = self._sockets.get(worker_id)
        self._sockets[worker_id] = ws
        if old is not None and not old.closed:
            await old.close(message=b"replaced by a newer connection")
            return  # the channel is already subscribed

        async def deliver(message: bytes) -> None:
            current = self._sockets.get(worker_id)
            if current is not None and not current.closed:
                await current.send_str(message.decode())

        await self._bus.subscribe(self._keys.command_channel(worker_id), deliver, sharded=True)

    async def detach(self, worker_id: str, ws: web.WebSocketResponse) -> None:
        if self._sockets.get(worker_id) is not ws:
            return
        del self._sockets[worker_id]
        await self._bus.unsubscribe(self._keys.command_channel(worker_id), sharded=True)

    async def close_all(self) -> None:
        sockets = list(self._sockets.values())
        await asyncio.gather(
            *(ws.close(code=1001, message=b"orchestrator shutting down") for ws in sockets),
            return_exceptions=True,
        )
