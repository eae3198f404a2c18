"""The webhook HTTP client (``webhooks/http.py``) against a real loopback server that answers
exactly the bytes each test scripts: the request on the wire, keep-alive reuse, and every
answer framing it must read right or close on."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from orchestrator.webhooks import http
from orchestrator.webhooks.http import BadAnswer, Pool, target
from tests.certificates import self_signed
from tests.helpers import wait_for

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@dataclass
class Request:
    head: bytes
    body: bytes
    connection: int
    """Which connection it came on, numbered from 0 in the order they were accepted."""

    def header(self, name: str) -> str | None:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode()
        return None


@dataclass
class Server:
    """Reads each request (framed by its Content-Length) and writes ``answer(request)``, a
    list of byte chunks sent one by one; None closes the connection unanswered."""

    answer: Callable[[Request], list[bytes] | None] = lambda _: [OK]
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    closed: int = 0
    """Connections the client closed (or the server, after an unanswered request)."""
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    handlers: set[asyncio.Task[None]] = field(default_factory=set)
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def stop(self, listener: asyncio.Server) -> None:
        """Close what it serves on, and its open connections."""
        for writer in self.writers:
            writer.close()
        if self.handlers:
            await asyncio.wait(self.handlers, timeout=5)
        listener.close()
        await listener.wait_closed()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = self.connections
        self.connections += 1
        self.writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)  # type: ignore[arg-type]
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request = Request(head, b"", number)
                length = int(request.header("Content-Length") or 0)
                request.body = await reader.readexactly(length)
                self.requests.append(request)
                chunks = self.answer(request)
                if chunks is None:
                    return
                for chunk in chunks:
                    writer.write(chunk)
                    await writer.drain()
                    await asyncio.sleep(0)  # each chunk its own segment, as often as not
        finally:
            self.closed += 1
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    s = Server()
    listener = await asyncio.start_server(s.handle, "127.0.0.1", 0)
    s.port = listener.sockets[0].getsockname()[1]
    yield s
    await s.stop(listener)


@pytest.fixture
async def pool() -> AsyncIterator[Pool]:
    p = Pool()
    yield p
    p.close()


async def post(pool: Pool, url: str, body: bytes = b'{"a": 1}') -> int:
    async with asyncio.timeout(5):
        return await pool.post(url, b"Content-Type: application/json\r\nX-Extra: 1\r\n", body)


async def test_the_request_on_the_wire(server: Server, pool: Pool) -> None:
    url = f"http://u%20ser:p%40ss@127.0.0.1:{server.port}/hook/a%2Fb?x=1&y=%C3%A9#frag"

    assert await post(pool, url, b'{"a": 1}') == 200

    [request] = server.requests
    lines = request.head.split(b"\r\n")
    assert lines[0] == b"POST /hook/a%2Fb?x=1&y=%C3%A9 HTTP/1.1"  # as sent; no fragment
    assert request.header("Host") == f"127.0.0.1:{server.port}"
    assert request.header("Content-Length") == "8"
    assert request.header("Content-Type") == "application/json"
    assert request.header("X-Extra") == "1"
    # the URL's credentials, percent-decoded, as Basic auth: base64("u ser:p@ss")
    assert request.header("Authorization") == "Basic dSBzZXI6cEBzcw=="
    assert request.body == b'{"a": 1}'


def test_a_default_port_is_not_in_the_host_header() -> None:
    assert b"\r\nHost: example.com\r\n" in target("https://example.com/x").head
    assert target("https://example.com/x").key == ("example.com", 443, True)
    assert b"POST / HTTP/1.1\r\n" in target("http://example.com").head
    with pytest.raises(ValueError):
        target("ftp://example.com/x")


async def test_one_connection_serves_request_after_request(server: Server, pool: Pool) -> None:
    server.answer = lambda _: [b"HTTP/1.1 204 No Content\r\n\r\n"]
    for _ in range(3):
        assert await post(pool, server.url()) == 204
    # The status counts once the headers are in; the connection serves the next request
    # once the body has come, in as many pieces as it may.
    server.answer = lambda _: [b"HTTP/1.1 201 Created\r\nContent-Le", b"ngth: 5\r\n\r\nab", b"cde"]
    for _ in range(3):
        assert await post(pool, server.url()) == 201
        await wait_for(lambda: bool(pool.idle), what="the body read")
    assert server.connections == 1
    assert server.closed == 0


async def test_concurrent_posts_each_get_a_connection_and_all_are_kept(
    server: Server, pool: Pool
) -> None:
    statuses = await asyncio.gather(*(post(pool, server.url()) for _ in range(5)))
    assert statuses == [200] * 5
    assert server.connections == 5
    await asyncio.gather(*(post(pool, server.url()) for _ in range(5)))
    assert server.connections == 5


async def test_idle_connections_beyond_the_bound_are_closed(server: Server) -> None:
    pool = Pool(max_idle=2)
    try:
        statuses = await asyncio.gather(*(post(pool, server.url()) for _ in range(5)))
        assert statuses == [200] * 5
        await wait_for(lambda: server.closed == 3, what="3 of 5 closed")
        assert pool.idle_count == 2
        assert await post(pool, server.url()) == 200
        assert server.connections == 5  # a kept one served it
    finally:
        pool.close()


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        # a length beside chunked framing does not count (RFC 9112 6.3)
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 12\r\n\r\n"
        b"2\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\n\r\nok",  # read to close
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
    ],
)
async def test_an_answer_framed_otherwise_counts_and_its_connection_closes(
    server: Server, pool: Pool, answer: bytes
) -> None:
    server.answer = lambda _: [answer]

    assert await post(pool, server.url()) == 200
    await wait_for(lambda: server.closed == 1, what="the close")  # nothing was misread

    assert await post(pool, server.url()) == 200
    assert server.connections == 2


async def test_interim_answers_are_skipped(server: Server, pool: Pool) -> None:
    server.answer = lambda _: [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 102 x\r\n\r\n", OK]
    assert await post(pool, server.url()) == 200
    assert await post(pool, server.url()) == 200
    assert server.connections == 1


@pytest.mark.parametrize(
    "answer", [b"SMTP ready\r\n\r\n", b"HTTP/1.1 2000 OK\r\n\r\n", b"HTTP/2 200\r\n\r\n"]
)
async def test_an_answer_that_is_not_http_1_is_an_error(
    server: Server, pool: Pool, answer: bytes
) -> None:
    server.answer = lambda _: [answer]
    with pytest.raises(BadAnswer):
        await post(pool, server.url())


async def test_a_connection_closed_without_an_answer_is_an_error(
    server: Server, pool: Pool
) -> None:
    server.answer = lambda _: None
    with pytest.raises(BadAnswer):
        await post(pool, server.url())


async def test_a_kept_connection_the_receiver_closed_is_replaced(
    server: Server, pool: Pool
) -> None:
    assert await post(pool, server.url()) == 200
    # The receiver drops its side of the idle connection; the client may not have seen it
    # yet when it sends the next request, which then goes once on a new connection.
    answers = iter([None])
    server.answer = lambda _: next(answers, [OK])
    assert await post(pool, server.url()) == 200
    assert server.connections == 2
    assert len(server.requests) == 3


async def test_a_receiver_that_never_answers_times_out_and_its_connection_closes(
    server: Server, pool: Pool
) -> None:
    server.answer = lambda _: []
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await pool.post(server.url(), b"", b"{}")
    await wait_for(lambda: server.closed == 1 and not pool.open, what="the close")


async def test_idle_connections_and_bodies_that_stop_coming_are_closed(
    server: Server, pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http, "KEEPALIVE_S", 0.3)
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nok"  # 7 more bytes never come
    server.answer = lambda request: [cut] if request.connection == 0 else [OK]
    statuses = await asyncio.gather(post(pool, server.url()), post(pool, server.url()))
    assert statuses == [200, 200]
    assert server.connections == 2

    await wait_for(lambda: server.closed == 2 and not pool.open, what="both closed")


async def test_https_verifies_the_receiver_and_keeps_the_connection(tmp_path: Path) -> None:
    cert_file, key_file = self_signed(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert_file, key_file)
    server = Server()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=served)
    url = f"https://127.0.0.1:{listener.sockets[0].getsockname()[1]}/hook"
    trusting, untrusting = Pool(ssl.create_default_context(cafile=cert_file)), Pool()
    try:
        assert await post(trusting, url) == 200
        assert await post(trusting, url) == 200
        assert server.connections == 1
        with pytest.raises(ssl.SSLCertVerificationError):  # an OSError: a failed attempt
            await post(untrusting, url)  # Python's default CAs do not know this certificate
    finally:
        trusting.close()
        untrusting.close()
        await server.stop(listener)


async def test_no_listener_is_an_os_error(pool: Pool) -> None:
    listener = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    with pytest.raises(OSError):
        await post(pool, f"http://127.0.0.1:{port}/hook")
