"""/_worker/ws/{worker_id}: the worker's WebSocket.

The orchestrator pushes commands on it (``cancel_task``, ``drain_worker``), after a ``hello``
that says what the worker may send back. The worker may send its task results on it::

    → {"type": "result", "id": 7, "body": {<the body of POST /_worker/tasks/result>}}
    ← {"type": "result_ack", "id": 7, "status": "result_accepted_success"}
    ← {"type": "result_error", "id": 7, "http_status": 409, "code": "TASK_NOT_HELD", ...}

Each answer is what ``POST /_worker/tasks/result`` would have answered (``workers.py``
applies both). A message the orchestrator cannot take is answered ``{"type": "error"}``;
the socket stays open.

With ``"next": N`` (a worker that will have N slots free once the result is taken, at most
``MAX_BATCH``), the answer also carries up to N tasks ready at once, leased to the worker as a
long-poll's are, which saves the worker its next poll::

    ← {"type": "result_ack", "id": 7, "status": "result_accepted_success", "tasks": [{...}]}

The ``hello`` offers it (``accepts`` holds ``"next"``). None are claimed while the worker
drains; none come when none are ready (the worker then polls as before). The claim is made as
the result arrives, beside its commit (one Redis write for both), so a task the result itself
queues (the job's next step) comes with a later answer or poll. Tasks whose answer
finds the socket closed go back to their queues; one lost after it was written is never run
by the worker, and goes back once the worker's heartbeats leave it out (``shell/leases.py``).

The answers ready in one turn of the event loop leave in one write: each is still a frame of
its own (the worker reads the same messages), but a burst of results costs one system call,
not one per answer.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from typing import Any

import msgspec
import orjson
from aiohttp import WSMsgType, web

from orchestrator.api.decode import invalid
from orchestrator.api.middleware import require_worker
from orchestrator.api.middleware.body import MAX_JSON_DEPTH, parse_json
from orchestrator.api.middleware.errors import unexpected_error
from orchestrator.api.workers import (
    apply_result,
    give_back,
    give_back_when_claimed,
    ready_tasks,
)
from orchestrator.appkeys import SETTINGS, SOCKETS
from orchestrator.errors import BadRequest, Forbidden, OrchestratorError
from orchestrator.logs import REQUEST_ID
from orchestrator.pass_batch import Asked, PassBatch
from worker_sdk.protocol import MAX_BATCH, Command, Hello, Refused, ResultAck, ResultRefused

log = logging.getLogger("orchestrator.api.ws")

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
    await inbox.send(Hello(accepts=["result", "next"], max_message_bytes=limit))
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
        self._nexts: PassBatch[int, list[bytes]] = PassBatch(self._claim_asked)
        """The ``next`` of the results read in one pass, taken in one claim."""

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
            want = _next(message)
        except OrchestratorError as exc:
            await self.send(_refusal(Refused, message_id, exc))
            return
        await self._slots.acquire()
        task = asyncio.create_task(self._apply(message_id, message.get("body"), want))
        self._applying.add(task)
        task.add_done_callback(self._applied)

    def _applied(self, task: asyncio.Task[None]) -> None:
        self._applying.discard(task)
        self._slots.release()

    async def _apply(self, message_id: int, body: object, want: int) -> None:
        request_id = f"{self._request_id}.{message_id}"
        REQUEST_ID.set(request_id)  # this task's log lines name the socket and the message
        # The next tasks are claimed alongside the result, not after it: the claim rides in
        # the same Redis write as the result's own reads and commit, which saves the worker's
        # slot a round trip (a task the result itself queues waits for the next claim).
        claiming = self._nexts.submit(want) if want else None
        answer: Command
        try:
            status = await apply_result(self._app, body, self._may_report, "websocket")
            answer = ResultAck(id=message_id, status=status)
        except OrchestratorError as exc:
            answer = _refusal(ResultRefused, message_id, exc)
        except Exception as exc:
            where = f"result {message_id} on the WebSocket of worker {self._worker_id}"
            answer = _refusal(ResultRefused, message_id, unexpected_error(exc, where, request_id))
        except BaseException:  # cancelled (shutdown): what the claim brings goes back
            if claiming is not None:
                give_back_when_claimed(self._app, claiming, self._worker_id)
            raise
        tasks = await claiming if claiming is not None else []
        if tasks and (not isinstance(answer, ResultAck) or self._closing()):
            # a refused result frees no slot, and a closing socket delivers nothing
            await self._give_back(tasks)
            tasks = []
        if tasks:
            self._outgoing_frame(_ack_with_tasks(message_id, answer, tasks))
        else:
            self.answer(answer)
        # The slot is held until the worker reads its answers: one that sends results but
        # reads nothing stops being read, rather than growing this process's buffer.
        await self._drained()

    async def _claim_asked(self, asks: Asked[int, list[bytes]]) -> None:
        """Tasks for the slots the worker said its results free, shared out in the order they
        asked; none on a failure (the results are taken all the same, and the worker polls).
        The results read from the socket in one pass of the event loop ask in one claim
        (``PassBatch``)."""
        tasks: list[bytes] = []
        try:
            want = min(sum(n for n, _ in asks), MAX_BATCH)
            tasks = await ready_tasks(self._app, self._worker_id, want)
        except Exception as exc:
            log.warning("no tasks with the results' answers: %s", exc)
            tasks = []
        finally:
            gone: list[bytes] = []
            for n, asked in asks:
                share, tasks = tasks[:n], tasks[n:]
                if asked.done():  # its result's task was cancelled (shutdown)
                    gone += share
                else:
                    asked.set_result(share)
        if gone:
            await self._give_back(gone)

    async def _give_back(self, tasks: list[bytes]) -> None:
        try:
            await give_back(self._app, tasks, self._worker_id)
        except Exception as exc:  # they go back when their leases run out
            log.warning("tasks the worker was not given stay leased until then: %s", exc)

    def _closing(self) -> bool:
        transport = self._transport
        return transport is None or self._ws.closed or transport.is_closing()

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
        self._outgoing_frame(_ENCODER.encode(message))

    def _outgoing_frame(self, payload: bytes) -> None:
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outgoing.append(frame(payload))

    def _flush(self) -> None:
        frames, self._outgoing = self._outgoing, []
        if self._closing():
            return  # lost, as ``send`` loses them: the worker sends those results over HTTP
        assert self._transport is not None
        self._transport.write(b"".join(frames))

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


def _next(message: dict[str, Any]) -> int:
    """The ``next`` of a result: how many tasks the worker takes with its answer."""
    value = message.get("next", 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_BATCH:
        raise invalid("next", f"the number of tasks to take with the answer, 0 to {MAX_BATCH}")
    return value


def _ack_with_tasks(message_id: int, answer: Command, tasks: list[bytes]) -> bytes:
    # The payloads are JSON objects already: spliced in, as the long-poll's batch is.
    assert isinstance(answer, ResultAck)  # only a taken result asks for tasks
    head = b'{"type":"result_ack","id":%d,"status":%b,"tasks":[' % (
        message_id,
        orjson.dumps(answer.status),
    )
    return head + b",".join(tasks) + b"]}"


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
