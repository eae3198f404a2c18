"""/_worker/ws/{worker_id}: the worker's WebSocket.

The orchestrator pushes commands on it (``cancel_task``, ``drain_worker``), after a ``hello``
that says what the worker may send back. The worker may send its task results on it::

    → {"type": "result", "id": 7, "body": {<the body of POST /_worker/tasks/result>}}
    ← {"type": "result_ack", "id": 7, "status": "result_accepted_success"}
    ← {"type": "result_error", "id": 7, "http_status": 409, "code": "TASK_NOT_HELD", ...}

Each answer is what ``POST /_worker/tasks/result`` would have answered (``workers.py``
applies both). A message the orchestrator cannot take is answered ``{"type": "error"}``;
the socket stays open.

The answers ready in one turn of the event loop leave in one write: each is still a frame of
its own (the worker reads the same messages), but a burst of results costs one system call,
not one per answer.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from orchestrator.api.decode import invalid
from orchestrator.api.middleware import require_worker
from orchestrator.api.middleware.body import MAX_JSON_DEPTH, parse_json
from orchestrator.api.middleware.errors import unexpected_error
from orchestrator.api.workers import apply_result
from orchestrator.appkeys import SETTINGS, SOCKETS
from orchestrator.errors import BadRequest, Forbidden, OrchestratorError
from orchestrator.logs import REQUEST_ID
from worker_sdk.protocol import Command, Hello, Refused, ResultAck, ResultRefused

routes = web.RouteTableDef()

MAX_RESULTS_IN_FLIGHT = 64
"""Results of one socket applied at once. The socket's reader waits for a free slot: the
worker's capacity bounds what it has to send anyway, so this only stops a runaway one."""

MAX_UNSENT_BYTES = 64 * 1024
"""Answers written but not yet taken by the worker's end past which results wait (as
aiohttp's own writer waits past its 64 KiB)."""

DRAIN_POLL_S = 0.05
"""How often a result held by a full buffer looks again: only a worker that stopped reading
its socket gets there."""

ENVELOPE_BYTES = 1024
"""Room in a message, over ``max_body_bytes``, for the envelope around a result's body."""

_ENCODER = msgspec.json.Encoder()

_TEXT = 0x81
"""First byte of a whole (FIN) text frame (RFC 6455 §5.2). A server's frames are not masked."""


@routes.get("/_worker/ws/{worker_id}")
async def commands(request: web.Request) -> web.WebSocketResponse:
    worker_id = request.match_info["worker_id"]
    require_worker(request, worker_id)
    limit = request.app[SETTINGS].http.max_body_bytes + ENVELOPE_BYTES
    # No permessage-deflate: zlib on every small message costs more CPU than it saves bytes.
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=limit, compress=False)
    if not ws.can_prepare(request).ok:
        raise BadRequest(
            "this route is a WebSocket: send the upgrade handshake (Upgrade: websocket, "
            "Connection: Upgrade, Sec-WebSocket-Version: 13, Sec-WebSocket-Key)",
            code="WEBSOCKET_HANDSHAKE_REQUIRED",
        )
    await ws.prepare(request)
    inbox = Inbox(request.app, worker_id, ws, request.transport)
    await inbox.send(Hello(accepts=["result"], max_message_bytes=limit))
    table = request.app[SOCKETS]
    await table.attach(worker_id, ws)
    try:
        async for message in ws:
            if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                await inbox.take(message.data)
            elif message.type == WSMsgType.ERROR:
                break
    finally:
        await table.detach(worker_id, ws)
        await inbox.finish()
    return ws


class Inbox:
    """What one worker sends on its socket. Each result is applied in an asyncio task of its
    own, so a slow one does not hold up the socket's reader (or the results behind it)."""

    def __init__(
        self,
        app: web.Application,
        worker_id: str,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport | None,
    ) -> None:
        self._app = app
        self._worker_id = worker_id
        self._ws = ws
        # The socket's own transport (the one ``ws`` writes to): answers are written to it
        # directly so that several go in one write.
        self._transport = transport
        self._outgoing: list[bytes] = []
        self._request_id = REQUEST_ID.get()
        self._slots = asyncio.Semaphore(MAX_RESULTS_IN_FLIGHT)
        self._applying: set[asyncio.Task[None]] = set()

    async def take(self, data: str | bytes) -> None:
        """One message from the worker: a result starts applying, anything else is answered
        with an ``error`` at once."""
        message_id: int | None = None
        try:
            message = _object(parse_json(data, "the message", MAX_JSON_DEPTH + 1))
            message_id = _id(message)
            _check_type(message)
            if message_id is None:
                raise invalid("id", 'a result needs an integer "id", which its answer echoes')
        except OrchestratorError as exc:
            await self.send(_refusal(Refused, message_id, exc))
            return
        await self._slots.acquire()
        task = asyncio.create_task(self._apply(message_id, message.get("body")))
        self._applying.add(task)
        task.add_done_callback(self._applied)

    def _applied(self, task: asyncio.Task[None]) -> None:
        self._applying.discard(task)
        self._slots.release()

    async def _apply(self, message_id: int, body: object) -> None:
        request_id = f"{self._request_id}.{message_id}"
        REQUEST_ID.set(request_id)  # this task's log lines name the socket and the message
        answer: Command
        try:
            status = await apply_result(self._app, body, self._may_report, "websocket")
            answer = ResultAck(id=message_id, status=status)
        except OrchestratorError as exc:
            answer = _refusal(ResultRefused, message_id, exc)
        except Exception as exc:
            where = f"result {message_id} on the WebSocket of worker {self._worker_id}"
            answer = _refusal(ResultRefused, message_id, unexpected_error(exc, where, request_id))
        self.answer(answer)
        # The slot is held until the worker reads its answers: one that sends results but
        # reads nothing stops being read, rather than growing this process's buffer.
        await self._drained()

    def _may_report(self, worker_id: str) -> None:
        """A socket speaks for the worker it was opened for, whatever its token allows."""
        if worker_id != self._worker_id:
            raise Forbidden(
                f"this WebSocket belongs to worker {self._worker_id!r}, not {worker_id!r}",
                code="WORKER_TOKEN_MISMATCH",
            )

    async def send(self, message: Command) -> None:
        """Send unless the socket is gone: a result's answer that finds it closed is lost,
        and the worker, having no answer, sends the result again over HTTP."""
        try:
            await self._ws.send_frame(_ENCODER.encode(message), WSMsgType.TEXT)
        except ConnectionError:
            pass

    def answer(self, message: Command) -> None:
        """Send ``message`` with the other answers ready in this turn of the event loop."""
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outgoing.append(frame(_ENCODER.encode(message)))

    def _flush(self) -> None:
        frames, self._outgoing = self._outgoing, []
        transport = self._transport
        if transport is None or self._ws.closed or transport.is_closing():
            return  # lost, as ``send`` loses them: the worker sends those results over HTTP
        transport.write(b"".join(frames))

    async def _drained(self) -> None:
        # Polled: the transport tells only aiohttp's protocol (privately) when it drains,
        # and only a worker that stopped reading ever waits here.
        transport = self._transport
        while (  # noqa: ASYNC110
            transport is not None
            and not transport.is_closing()
            and transport.get_write_buffer_size() > MAX_UNSENT_BYTES
        ):
            await asyncio.sleep(DRAIN_POLL_S)

    async def finish(self) -> None:
        """Wait for the results still being applied (their answers go nowhere now)."""
        if self._applying:
            await asyncio.gather(*self._applying, return_exceptions=True)


def frame(payload: bytes) -> bytes:
    """``payload`` as one unmasked text frame, as aiohttp's writer frames it."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _TEXT, size)
    elif size < 65536:
        header = struct.pack("!BBH", _TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", _TEXT, 127, size)
    return header + payload


def _object(message: object) -> dict[str, Any]:
    if not isinstance(message, dict):
        raise BadRequest("the message must be a JSON object", code="VALIDATION_ERROR")
    return message


def _id(message: dict[str, Any]) -> int | None:
    value = message.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _check_type(message: dict[str, Any]) -> None:
    kind = message.get("type")
    if kind != "result":
        raise invalid(
            "type", f"unknown message type {kind!r}: a worker sends only 'result' messages"
        )


def _refusal(
    kind: type[Refused] | type[ResultRefused], message_id: int | None, exc: OrchestratorError
) -> Refused | ResultRefused:
    """``exc`` as the socket says it: the status and error envelope HTTP would answer."""
    error: dict[str, Any] = exc.to_body()["error"]
    return kind(
        id=message_id,
        http_status=exc.status,
        code=error["code"],
        message=error["message"],
        details=error["details"],
    )
