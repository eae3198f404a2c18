"""A small in-memory orchestrator speaking the /_worker protocol, for SDK tests.

It only implements what the worker sees; fault knobs (``result_failures``, ``poll_failures``,
``forget_worker``) let tests script the orchestrator's bad days.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web

TOKEN = "test-worker-token"

_ERROR_CODES = {401: "UNAUTHORIZED", 409: "TASK_NOT_HELD", 503: "UNAVAILABLE", 500: "INTERNAL"}


def _error(status: int, code: str | None = None, message: str = "") -> web.Response:
    body = {"error": {"code": code or _ERROR_CODES.get(status, "ERROR"), "message": message}}
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def _json(body: object) -> web.Response:
    return web.Response(body=orjson.dumps(body), content_type="application/json")


@dataclass
class FakeOrchestrator:
    heartbeat_interval_s: float = 0.05
    poll_timeout_s: float = 1.0
    lease_s: float = 5.0

    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    registrations: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: list[dict[str, Any]] = field(default_factory=list)
    poll_params: list[dict[str, str]] = field(default_factory=list)
    result_posts: list[dict[str, Any]] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Accepted results by task id."""
    declines: list[dict[str, Any]] = field(default_factory=list)
    """Bodies of ``POST /_worker/tasks/decline``, in order."""
    progress: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    """(loop time received, body) of ``POST /_worker/tasks/progress``, in order."""
    handed_out: list[str] = field(default_factory=list)
    headers_seen: set[str] = field(default_factory=set)
    """Values of X-Worker-Token received, whatever the route."""

    result_failures: list[int] = field(default_factory=list)
    """HTTP statuses answered to the next result posts, in order."""
    poll_failures: list[int] = field(default_factory=list)
    """HTTP statuses answered to the next polls, in order."""
    forget_worker: bool = False
    """Answer the next heartbeat with 404 WORKER_NOT_REGISTERED."""
    cancels_for_heartbeat: list[dict[str, Any]] = field(default_factory=list)
    batches: bool = True
    """Answer ``?max=N`` with ``{"tasks": [...]}``; off, one task whatever ``max`` says, as an
    orchestrator older than batches does."""
    draining: bool = False
    """Say ``draining: true`` in heartbeat answers and refuse polls with 409 WORKER_DRAINING."""
    announced_draining: list[str] = field(default_factory=list)
    """Worker ids of ``POST /_worker/workers/{id}/drain`` (a worker stopping on its own)."""
    deregistrations: list[str] = field(default_factory=list)
    """Worker ids of ``DELETE /_worker/workers/{id}``, in order."""

    ws_results: bool = False
    """Offer results on the WebSocket (``hello``) and take them there, as the orchestrator
    does; off, the socket is a command channel only, as it was before."""
    ws_answers: list[str] = field(default_factory=list)
    """How the next results on the socket are answered, in order: ``"ack"`` (the default),
    ``"silent"`` (never), ``"close"`` (the socket closes instead), ``"error"`` (a message
    not understood), or an HTTP status for a ``result_error`` (``"409"``, ``"503"``...)."""
    ws_refused: bool = False
    """Refuse the WebSocket handshake (503), as a proxy that does not pass it on would."""
    ws_result_messages: list[dict[str, Any]] = field(default_factory=list)
    """Result messages received on the socket, in order."""
    max_message_bytes: int = 1 << 20
    ws_next: bool = False
    """Offer ``next`` in the ``hello``: a result's ack then carries the tasks queued already,
    up to the number the result asked for (plus ``ws_hand_extra``, as a faulty one would)."""
    ws_hand_extra: int = 0
    ws_handed: list[str] = field(default_factory=list)
    """Task ids handed out in result acks, in order."""

    active_polls: int = 0
    max_active_polls: int = 0
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    ws_connects: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/_worker/workers/register", self.register)
        app.router.add_patch("/_worker/workers/{worker_id}", self.heartbeat)
        app.router.add_delete("/_worker/workers/{worker_id}", self.deregister)
        app.router.add_post("/_worker/workers/{worker_id}/drain", self.announce_draining)
        app.router.add_get("/_worker/workers/{worker_id}/tasks/next", self.next_task)
        app.router.add_post("/_worker/tasks/result", self.result)
        app.router.add_post("/_worker/tasks/decline", self.decline)
        app.router.add_post("/_worker/tasks/progress", self.report_progress)
        app.router.add_get("/_worker/ws/{worker_id}", self.ws)
        app.on_shutdown.append(self._close_sockets)
        return app

    # -- test controls ----------------------------------------------------------------------

    def enqueue(self, task_type: str, params: dict[str, Any] | None = None, **extra: Any) -> str:
        """Queue a task and return its id."""
        n = next(self._ids)
        task = {
            "job_id": f"job-{n}",
            "task_id": f"task-{n}",
            "task_type": task_type,
            "params": params or {},
            "attempt": 1,
            "max_attempts": 3,
            "timeout_s": None,
        }
        task.update(extra)
        self.queue.put_nowait(task)
        return str(task["task_id"])

    async def send_cancel(self, task_id: str, attempt: int | None = None) -> None:
        """Push ``cancel_task`` on every open socket; without ``attempt``, as an orchestrator
        that names none did."""
        job_id = "job-" + task_id.removeprefix("task-")
        command: dict[str, Any] = {"type": "cancel_task", "job_id": job_id, "task_id": task_id}
        if attempt is not None:
            command["attempt"] = attempt
        message = orjson.dumps(command)
        for ws in list(self.sockets):
            await ws.send_str(message.decode())

    async def send_drain(self) -> None:
        """Push ``drain_worker`` on every open socket."""
        for ws in list(self.sockets):
            await ws.send_str('{"type": "drain_worker"}')

    async def drop_sockets(self) -> None:
        for ws in list(self.sockets):
            await ws.close()

    # -- routes -----------------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        token = request.headers.get("X-Worker-Token", "")
        self.headers_seen.add(token)
        return token == TOKEN

    async def register(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, message="bad worker token")
        self.registrations.append(orjson.loads(await request.read()))
        return _json(
            {
                "status": "registered",
                "heartbeat_interval_s": self.heartbeat_interval_s,
                "lease_s": self.lease_s,
                "poll_timeout_s": self.poll_timeout_s,
            }
        )

    async def heartbeat(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401)
        if self.forget_worker:
            self.forget_worker = False
            return _error(404, "WORKER_NOT_REGISTERED", "unknown worker")
        self.heartbeats.append(orjson.loads(await request.read()))
        cancelled, self.cancels_for_heartbeat = self.cancels_for_heartbeat, []
        answer = {"status": "ttl_refreshed", "cancelled_tasks": cancelled}
        return _json(answer | ({"draining": True} if self.draining else {}))

    async def announce_draining(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401)
        self.announced_draining.append(request.match_info["worker_id"])
        return _json({"worker_id": request.match_info["worker_id"], "status": "draining"})

    async def deregister(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401)
        self.deregistrations.append(request.match_info["worker_id"])
        return web.Response(status=204)

    async def next_task(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401)
        self.poll_params.append(dict(request.query))
        if self.poll_failures:
            return _error(self.poll_failures.pop(0))
        if self.draining:
            return _error(409, "WORKER_DRAINING", "this worker is draining")
        self.active_polls += 1
        self.max_active_polls = max(self.max_active_polls, self.active_polls)
        try:
            # The test server cancels this handler when the worker drops the request.
            async with asyncio.timeout(float(request.query.get("timeout", "30"))):
                task = await self.queue.get()
        except TimeoutError:
            return web.Response(status=204)
        finally:
            self.active_polls -= 1
        if "max" not in request.query or not self.batches:
            self.handed_out.append(task["task_id"])
            return _json(task)
        # A batch: the first task waited for, then only those queued already.
        tasks = [task]
        while len(tasks) < int(request.query["max"]) and not self.queue.empty():
            tasks.append(self.queue.get_nowait())
        self.handed_out += [t["task_id"] for t in tasks]
        return _json({"tasks": tasks})

    async def result(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401)
        body = orjson.loads(await request.read())
        self.result_posts.append(body)
        if self.result_failures:
            return _error(self.result_failures.pop(0))
        self.results.setdefault(body["task_id"], body)
        return _json({"status": f"result_accepted_{body['status']}"})

    async def decline(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401)
        self.declines.append(orjson.loads(await request.read()))
        return _json({"status": "task_released"})

    async def report_progress(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401)
        body = orjson.loads(await request.read())
        self.progress.append((asyncio.get_running_loop().time(), body))
        return _json({"status": "progress_recorded"})

    async def ws(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return _error(401)
        if self.ws_refused:
            return _error(503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.ws_connects += 1
        if self.ws_results:
            hello = {"type": "hello", "accepts": ["result", "next"] if self.ws_next else ["result"]}
            await ws.send_json(hello | {"max_message_bytes": self.max_message_bytes})
        self.sockets.append(ws)
        try:
            async for message in ws:
                if self.ws_results and message.type == WSMsgType.TEXT:
                    await self._ws_result(ws, orjson.loads(message.data))
        finally:
            self.sockets.remove(ws)
        return ws

    async def _ws_result(self, ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
        self.ws_result_messages.append(message)
        how = self.ws_answers.pop(0) if self.ws_answers else "ack"
        n, body = message["id"], message["body"]
        if how == "silent":
            return
        if how == "close":
            await ws.close()
        elif how == "error":
            await ws.send_json({"type": "error", "id": n, "message": "not understood"})
        elif how != "ack":
            status = int(how)
            code, text = _ERROR_CODES.get(status, "ERROR"), f"refused with {status}"
            answer = {"type": "result_error", "id": n, "http_status": status, "code": code}
            await ws.send_json(answer | {"message": text, "details": {}})
        else:
            self.results.setdefault(body["task_id"], body)
            status = f"result_accepted_{body['status']}"
            ack: dict[str, Any] = {"type": "result_ack", "id": n, "status": status}
            want = message.get("next", 0) + self.ws_hand_extra if self.ws_next else 0
            tasks = []
            while len(tasks) < want and not self.queue.empty():
                tasks.append(self.queue.get_nowait())
            if tasks:
                self.ws_handed += [t["task_id"] for t in tasks]
                ack["tasks"] = tasks
            await ws.send_json(ack)

    async def _close_sockets(self, app: web.Application) -> None:
        await self.drop_sockets()
