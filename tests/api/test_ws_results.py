"""Results on the worker's WebSocket (``api/ws.py``): each is answered as
``POST /_worker/tasks/result`` would answer it, a message the orchestrator cannot take gets an
``error`` back on a socket that stays open, and results are applied side by side."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any
from unittest import mock

import orjson
import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType, web
from aiohttp.http import WebSocketWriter
from redis.exceptions import ConnectionError as RedisConnectionError

from orchestrator.api import workers as workers_module
from orchestrator.api import ws as ws_module
from orchestrator.api.drain import DRAINING
from orchestrator.errors import Conflict
from tests.api.conftest import FAST, W1_TOKEN, Api, MakeApi, worker_headers
from tests.helpers import wait_for

LIMIT = FAST["max_body_bytes"] + ws_module.ENVELOPE_BYTES

Socket = ClientWebSocketResponse


@pytest.fixture
async def socket(api: Api) -> AsyncIterator[Socket]:
    """Worker ``w1``'s socket, past its ``hello``."""
    await api.register("w1")
    ws = await api.client.ws_connect("/_worker/ws/w1", headers=worker_headers())
    try:
        hello = await ws.receive_json(timeout=5)
        assert hello == {"type": "hello", "accepts": ["result", "next"], "max_message_bytes": LIMIT}
        yield ws
    finally:
        await ws.close()


def _body(task: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {
        "job_id": task["job_id"],
        "task_id": task["task_id"],
        "worker_id": "w1",
        "attempt": task["attempt"],
        "status": "success",
        "data": {"greeting": "hi"},
        "error": None,
    }
    return body | fields


async def _send(ws: Socket, message_id: object, body: object) -> dict[str, Any]:
    await ws.send_json({"type": "result", "id": message_id, "body": body})
    return await _answer(ws)


async def _answer(ws: Socket) -> dict[str, Any]:
    """The next answer on the socket, past the commands (a cancel) the orchestrator sent."""
    while True:
        message = dict(await ws.receive_json(timeout=5))
        if message["type"] not in ("cancel_task", "drain_worker"):
            return message


async def _http(api: Api, body: object) -> tuple[int, dict[str, Any]]:
    resp = await api.client.post(
        "/_worker/tasks/result", data=orjson.dumps(body), headers=worker_headers()
    )
    return resp.status, dict(await resp.json())


def _as_http(answer: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A ``result_error`` as HTTP says it: its status and its error envelope."""
    error = {k: answer[k] for k in ("code", "message", "details")}
    return answer["http_status"], {"error": error}


async def _metric(api: Api, transport: str, outcome: str) -> float:
    text = await (await api.client.get("/_public/metrics")).text()
    series = f'orchestrator_task_results_total{{outcome="{outcome}",transport="{transport}"}} '
    (line,) = [x for x in text.splitlines() if x.startswith(series)]
    return float(line.removeprefix(series))


async def test_a_result_is_acked_with_the_status_http_answers(api: Api, socket: Socket) -> None:
    job_id = await api.create()
    task = await api.take("w1")
    answer = await _send(socket, 7, _body(task))
    assert answer == {"type": "result_ack", "id": 7, "status": "result_accepted_success"}
    job = await api.wait_status(job_id, "finished")
    assert job["result"]["greeting"] == "hi"
    # the same result again: the same answer, on either transport
    assert await _send(socket, 8, _body(task)) == answer | {"id": 8}
    assert await _http(api, _body(task)) == (200, {"status": "result_accepted_success"})
    assert await _metric(api, "websocket", "accepted") == 2
    assert await _metric(api, "http", "accepted") == 1


async def test_task_not_held_is_answered_as_http_answers_it(api: Api, socket: Socket) -> None:
    job_id = await api.create()
    task = await api.take("w1")
    assert (await api.cancel(job_id)).status == 200
    await api.wait_status(job_id, "cancelled")
    answer = await _send(socket, 1, _body(task))
    assert (answer["type"], answer["id"], answer["code"]) == ("result_error", 1, "TASK_NOT_HELD")
    assert _as_http(answer) == await _http(api, _body(task))
    assert await _metric(api, "websocket", "refused") == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda body: [body],
        lambda body: {k: v for k, v in body.items() if k != "status"},
        lambda body: body | {"data": "not an object"},
        lambda body: body | {"attempt": True},
        lambda body: body | {"error": {"code": 5}},
        lambda body: body | {"job_id": "no-such-job"},
    ],
    ids=["not-an-object", "no-status", "data", "attempt", "error-code", "unknown-job"],
)
async def test_a_bad_body_is_refused_as_http_refuses_it(
    api: Api, socket: Socket, change: Callable[[dict[str, Any]], object]
) -> None:
    await api.create()
    body = change(_body(await api.take("w1")))
    answer = await _send(socket, 3, body)
    assert (answer["type"], answer["id"]) == ("result_error", 3)
    assert _as_http(answer) == await _http(api, body)
    assert answer["http_status"] in (400, 409)


async def test_a_socket_speaks_only_for_its_own_worker(api: Api, socket: Socket) -> None:
    """Even with the global token, which may name any worker over HTTP."""
    await api.register("w2")
    await api.create()
    task = await api.take("w2")
    answer = await _send(socket, 1, _body(task, worker_id="w2"))
    assert answer["http_status"] == 403
    assert answer["code"] == "WORKER_TOKEN_MISMATCH"
    assert "belongs to worker 'w1', not 'w2'" in answer["message"]
    # w2's task is still w2's to report
    assert (await _http(api, _body(task, worker_id="w2")))[0] == 200


async def test_a_bound_token_opens_only_its_own_socket(api: Api) -> None:
    resp = await api.client.get("/_worker/ws/w2", headers=worker_headers(W1_TOKEN))
    assert resp.status == 403


@pytest.mark.parametrize(
    ("message", "answer"),
    [
        (b"not json", {"id": None, "code": "INVALID_JSON"}),
        (b"[1, 2]", {"id": None, "code": "VALIDATION_ERROR"}),
        (b'{"type": "heartbeat", "id": 4}', {"id": 4, "code": "VALIDATION_ERROR"}),
        (b'{"id": 4}', {"id": 4, "code": "VALIDATION_ERROR"}),
        (b'{"type": "result", "body": {}}', {"id": None, "code": "VALIDATION_ERROR"}),
        (b'{"type": "result", "id": "4", "body": {}}', {"id": None, "code": "VALIDATION_ERROR"}),
        (b'{"type": "result", "id": true, "body": {}}', {"id": None, "code": "VALIDATION_ERROR"}),
        (b"[" * 70 + b"]" * 70, {"id": None, "code": "INVALID_JSON"}),
    ],
    ids=["not-json", "array", "unknown-type", "no-type", "no-id", "string-id", "bool-id", "deep"],
)
async def test_a_message_it_cannot_take_is_answered_and_the_socket_stays_open(
    api: Api, socket: Socket, message: bytes, answer: dict[str, Any]
) -> None:
    await socket.send_str(message.decode())
    got = await _answer(socket)
    assert got["type"] == "error" and got["http_status"] == 400, got
    assert {k: got[k] for k in answer} == answer
    assert got["message"]
    # still open, and still taking results (here as a binary frame)
    await api.create()
    task = await api.take("w1")
    await socket.send_bytes(orjson.dumps({"type": "result", "id": 9, "body": _body(task)}))
    assert (await socket.receive_json(timeout=5))["type"] == "result_ack"


async def test_an_unknown_type_is_named_in_the_answer(socket: Socket) -> None:
    await socket.send_json({"type": "heartbeat", "id": 4})
    got = await socket.receive_json(timeout=5)
    assert got["message"] == (
        "type: unknown message type 'heartbeat': a worker sends only 'result' messages"
    )
    assert got["details"] == {"field": "type"}


class _Gate:
    """Stands in for ``apply_result``: holds the results named in ``held`` until released."""

    def __init__(self, held: set[int]) -> None:
        self.held = held
        self.release = asyncio.Event()
        self.running = 0
        self.most = 0

    async def __call__(
        self, app: web.Application, raw: Any, check: Callable[[str], None], transport: str
    ) -> str:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            if raw["n"] in self.held:
                await self.release.wait()
            return f"done {raw['n']}"
        finally:
            self.running -= 1


async def test_a_slow_result_does_not_hold_up_the_ones_behind_it(
    socket: Socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = _Gate(held={1})
    monkeypatch.setattr(ws_module, "apply_result", gate)
    await socket.send_json({"type": "result", "id": 1, "body": {"n": 1}})
    await socket.send_json({"type": "result", "id": 2, "body": {"n": 2}})
    assert await socket.receive_json(timeout=5) == {
        "type": "result_ack",
        "id": 2,
        "status": "done 2",
    }
    gate.release.set()
    assert (await socket.receive_json(timeout=5))["id"] == 1


async def test_results_in_flight_per_socket_are_bounded(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = _Gate(held={1, 2, 3, 4})
    monkeypatch.setattr(ws_module, "apply_result", gate)
    monkeypatch.setattr(ws_module, "MAX_RESULTS_IN_FLIGHT", 2)
    ws = await api.client.ws_connect("/_worker/ws/w1", headers=worker_headers())
    try:
        await ws.receive_json(timeout=5)  # hello
        for n in (1, 2, 3, 4, 5):
            await ws.send_json({"type": "result", "id": n, "body": {"n": n}})
        await wait_for(lambda: gate.running == 2, what="two results applying")
        await asyncio.sleep(0.1)  # a third would start now if the bound did not hold
        assert gate.running == 2
        gate.release.set()
        answers = [await ws.receive_json(timeout=5) for _ in range(5)]
        assert sorted(a["id"] for a in answers) == [1, 2, 3, 4, 5]
        assert gate.most == 2
    finally:
        await ws.close()


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RedisConnectionError("gone"), 503, "STORAGE_UNAVAILABLE"),
        (RuntimeError("a bug"), 500, "INTERNAL_ERROR"),
    ],
)
async def test_an_unexpected_failure_is_answered_as_http_answers_it(
    socket: Socket,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    status: int,
    code: str,
) -> None:
    async def fails(*_: object) -> str:
        raise error

    monkeypatch.setattr(ws_module, "apply_result", fails)
    answer = await _send(socket, 5, {})
    assert (answer["type"], answer["id"]) == ("result_error", 5)
    assert (answer["http_status"], answer["code"]) == (status, code)
    if status == 500:  # the log has the traceback under this id; the answer says no more
        assert answer["message"] == "internal error; the log has the details"
        assert answer["details"]["request_id"].endswith(".5")
    # the socket goes on
    await socket.send_json({"type": "nothing"})
    assert (await socket.receive_json(timeout=5))["type"] == "error"


class _CountingTransport:
    """The socket's transport, counting the writes the inbox makes to it."""

    def __init__(self, inner: asyncio.Transport) -> None:
        self.inner = inner
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.inner.write(data)

    def is_closing(self) -> bool:
        return self.inner.is_closing()


async def test_answers_ready_together_leave_in_one_write(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    transports: list[_CountingTransport] = []
    real_init = ws_module.Inbox.__init__

    def spied(self: ws_module.Inbox, *args: Any) -> None:
        *rest, transport = args
        transports.append(_CountingTransport(transport))
        real_init(self, *rest, transports[-1])  # type: ignore[arg-type]

    monkeypatch.setattr(ws_module.Inbox, "__init__", spied)
    gate = _Gate(held={1, 2, 3, 4})
    monkeypatch.setattr(ws_module, "apply_result", gate)
    ws = await api.client.ws_connect("/_worker/ws/w1", headers=worker_headers())
    try:
        await ws.receive_json(timeout=5)  # hello
        for n in (1, 2, 3, 4):
            await ws.send_json({"type": "result", "id": n, "body": {"n": n}})
        await wait_for(lambda: gate.running == 4, what="four results applying")
        gate.release.set()
        answers = [await ws.receive_json(timeout=5) for _ in range(4)]
        assert sorted(a["id"] for a in answers) == [1, 2, 3, 4]
        assert {a["status"] for a in answers} == {f"done {n}" for n in (1, 2, 3, 4)}
        (transport,) = transports
        assert len(transport.writes) == 1  # four frames, one system call
    finally:
        await ws.close()


class _Collected:
    """A transport that keeps what is written to it."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
async def test_a_frame_is_framed_as_aiohttp_frames_it(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    collected = _Collected()
    writer = WebSocketWriter(mock.Mock(_paused=False), collected)  # type: ignore[arg-type]
    await writer.send_frame(payload, WSMsgType.TEXT)
    assert ws_module.frame(payload) == bytes(collected.data)


async def test_a_worker_that_reads_no_answers_stops_being_read(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its answers wait in the socket's buffer, holding their slots: the results behind them
    wait unread instead of piling up answers in the orchestrator."""
    gate = _Gate(held=set())
    monkeypatch.setattr(ws_module, "apply_result", gate)
    monkeypatch.setattr(ws_module, "MAX_RESULTS_IN_FLIGHT", 2)
    monkeypatch.setattr(ws_module, "MAX_UNSENT_BYTES", -1)  # as if the buffer were full
    ws = await api.client.ws_connect("/_worker/ws/w1", headers=worker_headers())
    try:
        await ws.receive_json(timeout=5)  # hello
        for n in (1, 2, 3):
            await ws.send_json({"type": "result", "id": n, "body": {"n": n}})
        first = [await ws.receive_json(timeout=5) for _ in range(2)]
        assert sorted(a["id"] for a in first) == [1, 2]
        with pytest.raises(TimeoutError):  # the third would be answered by now without it
            await ws.receive_json(timeout=0.3)
        monkeypatch.setattr(ws_module, "MAX_UNSENT_BYTES", 64 * 1024)
        assert (await ws.receive_json(timeout=5))["id"] == 3
    finally:
        await ws.close()


async def _send_next(ws: Socket, message_id: int, body: object, want: object) -> dict[str, Any]:
    await ws.send_json({"type": "result", "id": message_id, "body": body, "next": want})
    return await _answer(ws)


async def test_a_result_asking_next_gets_the_tasks_ready_leased_to_it(
    api: Api, socket: Socket
) -> None:
    first = await api.create()
    task = await api.take("w1")
    others = {await api.create(), await api.create()}
    answer = await _send_next(socket, 1, _body(task), 5)
    assert answer["status"] == "result_accepted_success"
    assert {t["job_id"] for t in answer["tasks"]} == others
    await api.wait_status(first, "finished")
    for handed in answer["tasks"]:
        # leased to w1 as a poll's task is: its result is taken
        assert await _send(socket, 9, _body(handed)) == {
            "type": "result_ack",
            "id": 9,
            "status": "result_accepted_success",
        }
    assert (await api.poll("w1", timeout=0)).status == 204


async def test_a_result_asking_next_takes_no_more_than_asked(api: Api, socket: Socket) -> None:
    await api.create()
    task = await api.take("w1")
    later = [await api.create(), await api.create()]
    answer = await _send_next(socket, 1, _body(task), 1)
    assert [t["job_id"] for t in answer["tasks"]] == later[:1]
    assert (await api.take("w1"))["job_id"] == later[1]


async def test_no_task_ready_or_a_draining_worker_gets_the_plain_answer(
    api: Api, socket: Socket
) -> None:
    await api.create()
    answer = await _send_next(socket, 1, _body(await api.take("w1")), 2)
    assert answer == {"type": "result_ack", "id": 1, "status": "result_accepted_success"}
    await api.create()
    task = await api.take("w1")
    queued = await api.create()
    api.app[DRAINING].add("w1")
    answer = await _send_next(socket, 2, _body(task), 2)
    assert answer == {"type": "result_ack", "id": 2, "status": "result_accepted_success"}
    job = await api.job(queued)
    assert job["status"] == "waiting_for_worker"


@pytest.mark.parametrize("want", [-1, 65, "1", True, 1.5])
async def test_a_bad_next_is_refused_and_the_result_not_applied(
    api: Api, socket: Socket, want: object
) -> None:
    job_id = await api.create()
    task = await api.take("w1")
    before = await api.job(job_id)
    answer = await _send_next(socket, 4, _body(task), want)
    assert (answer["type"], answer["id"], answer["code"]) == ("error", 4, "VALIDATION_ERROR")
    assert "next" in answer["message"]
    assert await api.job(job_id) == before


async def test_tasks_claimed_for_an_answer_that_finds_the_socket_closing_go_back(
    make_api: MakeApi,
) -> None:
    api = await make_api(lease_s=30.0)  # no lease runs out within the test
    await api.register("w1")
    first = await api.create()
    task = await api.take("w1")
    queued = await api.create()
    ws = await api.client.ws_connect("/_worker/ws/w1", headers=worker_headers())
    try:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        with mock.patch.object(ws_module.Inbox, "_closing", return_value=True):
            await ws.send_json({"type": "result", "id": 1, "body": _body(task), "next": 1})
            await api.wait_status(first, "finished")
            # claimed for the answer, then given back: a poll gets it
            assert (await api.take("w1", timeout=5))["job_id"] == queued
    finally:
        await ws.close()


def _frames(data: bytes) -> list[dict[str, Any]]:
    """The messages in what an inbox wrote (unmasked text frames, as ``frame`` makes them)."""
    messages, at = [], 0
    while at < len(data):
        size, at = data[at + 1], at + 2
        if size == 126:
            size, at = int.from_bytes(data[at : at + 2]), at + 2
        messages.append(orjson.loads(data[at : at + size]))
        at += size
    return messages


class _Claims:
    """Stands in for ``ready_tasks`` and ``give_back``: hands out ``t0``, ``t1``, ... (one
    fewer than asked) and keeps what is given back."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.asked: list[int] = []
        self.given_back: list[str] = []
        monkeypatch.setattr(ws_module, "ready_tasks", self.ready)
        monkeypatch.setattr(ws_module, "give_back", self.back)
        monkeypatch.setattr(workers_module, "give_back", self.back)  # a cancelled apply's

    async def ready(self, app: web.Application, worker_id: str, want: int) -> list[bytes]:
        self.asked.append(want)
        return [orjson.dumps({"task_id": f"t{n}"}) for n in range(want - 1)]

    async def back(self, app: web.Application, payloads: list[bytes], worker_id: str) -> None:
        self.given_back += [orjson.loads(p)["task_id"] for p in payloads]


def _inbox(collected: _Collected) -> ws_module.Inbox:
    socket: Any = mock.Mock(closed=False)
    return ws_module.Inbox(web.Application(), "w1", socket, collected)  # type: ignore[arg-type]


async def _take_together(inbox: ws_module.Inbox, ids: list[int], want: int = 1) -> None:
    """The results ``ids``, read from the socket in one pass of the event loop."""
    messages = [{"type": "result", "id": n, "body": {"n": n}, "next": want} for n in ids]
    await asyncio.gather(*(inbox.take(orjson.dumps(m)) for m in messages))


async def test_results_read_together_ask_in_one_claim_beside_their_commits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = _Gate(held={1, 2, 3, 4})
    monkeypatch.setattr(ws_module, "apply_result", gate)
    claims = _Claims(monkeypatch)
    collected = _Collected()
    inbox = _inbox(collected)
    await _take_together(inbox, [1, 2, 3, 4])
    # claimed while the results are still being applied, in one claim for the four
    await wait_for(lambda: claims.asked == [4] and gate.running == 4, what="the claim")
    gate.release.set()
    await inbox.finish()
    await wait_for(lambda: len(_frames(collected.data)) == 4, what="four answers")
    answers = _frames(collected.data)
    handed = [t["task_id"] for a in answers for t in a.get("tasks", [])]
    assert sorted(handed) == ["t0", "t1", "t2"]  # one each, in the order they asked
    assert sorted(len(a.get("tasks", [])) for a in answers) == [0, 1, 1, 1]
    assert claims.given_back == []


async def test_tasks_claimed_for_a_refused_result_go_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def refuses(*_: object) -> str:
        raise Conflict("worker w1 does not hold task x", code="TASK_NOT_HELD")

    monkeypatch.setattr(ws_module, "apply_result", refuses)
    claims = _Claims(monkeypatch)
    collected = _Collected()
    inbox = _inbox(collected)
    await _take_together(inbox, [1], want=3)
    await inbox.finish()
    await wait_for(lambda: _frames(collected.data), what="the answer")
    (answer,) = _frames(collected.data)
    assert (answer["type"], answer["code"]) == ("result_error", "TASK_NOT_HELD")
    assert "tasks" not in answer
    assert claims.given_back == ["t0", "t1"]


async def test_tasks_claimed_for_a_result_whose_apply_is_cancelled_go_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = _Gate(held={1})
    monkeypatch.setattr(ws_module, "apply_result", gate)
    claims = _Claims(monkeypatch)
    inbox = _inbox(_Collected())
    await _take_together(inbox, [1], want=2)
    await wait_for(lambda: claims.asked == [2] and gate.running == 1, what="the claim")
    for applying in list(inbox._applying):
        applying.cancel()  # the socket's handler stops (shutdown)
    await wait_for(lambda: claims.given_back == ["t0"], what="the give-back")


async def test_the_share_of_a_result_gone_meanwhile_goes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = asyncio.Event()
    given_back: list[bytes] = []

    async def ready(app: web.Application, worker_id: str, want: int) -> list[bytes]:
        await release.wait()
        return [b'{"n":1}', b'{"n":2}']

    async def back(app: web.Application, payloads: list[bytes], worker_id: str) -> None:
        given_back.extend(payloads)

    monkeypatch.setattr(ws_module, "ready_tasks", ready)
    monkeypatch.setattr(ws_module, "give_back", back)
    inbox = _inbox(_Collected())
    first = inbox._nexts.submit(1)
    second = inbox._nexts.submit(1)
    await wait_for(lambda: inbox._nexts.running, what="the claim")
    first.cancel()  # its result's task ends (the socket's handler stops)
    release.set()
    assert await second == [b'{"n":2}']
    await wait_for(lambda: given_back, what="the give-back")
    assert given_back == [b'{"n":1}']
