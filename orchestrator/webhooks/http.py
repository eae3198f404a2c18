"""The webhook POST: a lean HTTP/1.1 client, keep-alive connections pooled per receiver.

aiohttp's ``ClientSession`` cost about 200 µs of the orchestrator's CPU per POST (request and
response objects, header multidicts, the cookie jar, tracing hooks), the largest share of a
delivery. A delivery only needs one prebuilt buffer written and the answer's status read, so
the sender speaks just that much HTTP/1.1:

- **The request**: ``POST`` with ``Host``, ``Content-Length``, the caller's headers, and
  ``Authorization: Basic`` from credentials in the URL, as aiohttp sent them. The target is
  the URL's path and query quoted as aiohttp quoted them (``yarl``); the fragment is not sent;
  no redirect is followed.
- **The answer**: its status counts once its headers are in (interim 1xx answers skipped). A
  body framed by ``Content-Length`` is read to its end and the connection kept for the
  receiver's next POST; on any other framing (chunked, read to close), ``Connection: close``
  or HTTP/1.0, the connection closes after the status, so no framing is ever misread.
- **https** with Python's default verified TLS context; no proxies (the session had
  ``trust_env`` off too).

One request at a time per connection; the sender's slots bound how many are busy, and the
pool keeps at most ``max_idle`` idle (many receivers, each sent to once in a while, must not
hold a file descriptor each). An idle connection closes after ``KEEPALIVE_S`` (give or take
a third of it), or when the receiver closes it; so does one whose answer's body stops
coming. One timer per pool looks for them, not one per request.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import ssl
from dataclasses import dataclass
from typing import cast

import yarl

KEEPALIVE_S = 15.0
"""How long a connection stays open unused (aiohttp's default)."""
MAX_HEAD = 64 * 1024
"""An answer whose headers are longer is refused."""
MAX_KEPT_BODY = 64 * 1024
"""A longer answer body is not read: the connection closes instead."""
_NO_BODY = frozenset({204, 304})


class BadAnswer(Exception):
    """The receiver's answer was not HTTP/1.x, or the connection closed before its status."""


class Dropped(BadAnswer):
    """The connection closed before a byte of the answer came."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a webhook URL means on the wire; worked out once per URL (``target``)."""

    host: str
    port: int
    tls: bool
    head: bytes
    """The request line and the headers the URL decides, each ending in CRLF."""

    @property
    def key(self) -> tuple[str, int, bool]:
        return self.host, self.port, self.tls


@functools.lru_cache(maxsize=1024)
def target(url: str) -> Target:
    """The ``Target`` of ``url``; raises ``ValueError`` for one that is not http(s)."""
    parsed = yarl.URL(url)
    host, port = parsed.raw_host, parsed.port
    if parsed.scheme not in ("http", "https") or not host or port is None:
        raise ValueError("not an absolute http(s) URL")
    lines = [f"POST {parsed.raw_path_qs} HTTP/1.1", f"Host: {parsed.host_port_subcomponent}"]
    if parsed.raw_user or parsed.raw_password:
        pair = f"{parsed.user or ''}:{parsed.password or ''}".encode("latin-1")
        lines.append(f"Authorization: Basic {base64.b64encode(pair).decode()}")
    head = "".join(f"{line}\r\n" for line in lines).encode("latin-1")
    return Target(host, port, parsed.scheme == "https", head)


def default_tls() -> ssl.SSLContext:
    """Python's default verified context. Loading the CA certificates blocks for up to a
    tenth of a second: the pool builds it in a thread, once, at its first https URL."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


class Connection(asyncio.Protocol):
    """One connection to a receiver: sends a request, reads its answer, then waits in the
    pool for the next one."""

    def __init__(self, pool: Pool, key: tuple[str, int, bool]) -> None:
        self.pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.answer: asyncio.Future[int] | None = None
        self.buffer = bytearray()
        self.body_left = -1
        """Bytes of the answer's body still to come; -1 while its headers are read."""
        self.since = 0.0
        """Loop time when the answer's status came: idle, or reading its body, since then."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport (uvloop's do not subclass asyncio.Transport)
        self.transport = cast(asyncio.Transport, transport)
        self.since = asyncio.get_running_loop().time()
        self.pool.opened(self)

    def send(self, request: bytes) -> asyncio.Future[int]:
        """Writes ``request``; the future gets the answer's status."""
        assert self.transport is not None
        self.answer = asyncio.get_running_loop().create_future()
        self.body_left = -1
        self.transport.write(request)
        return self.answer

    def data_received(self, data: bytes) -> None:
        if self.body_left > 0:
            self._body(len(data))
            return
        if self.answer is None or self.answer.done():
            self.close()  # bytes nobody asked for: the framing is lost
            return
        self.buffer += data
        self._head()

    def _head(self) -> None:
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    self._fail(BadAnswer("answer headers too long"))
                return
            lines = bytes(self.buffer[:end]).split(b"\r\n")
            rest = len(self.buffer) - end - 4
            del self.buffer[: end + 4]
            version, _, after = lines[0].partition(b" ")
            code = after.partition(b" ")[0]
            if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
                self._fail(BadAnswer(f"not an HTTP/1.x status line: {lines[0][:80]!r}"))
                return
            status = int(code)
            if 100 <= status < 200 and status != 101:
                continue  # an interim answer: the final one follows
            assert self.answer is not None
            self.answer.set_result(status)
            self.since = asyncio.get_running_loop().time()
            length = self._kept_length(version, status, lines[1:])
            self.buffer.clear()
            if length is None or rest > length:
                self.close()
                return
            self.body_left = length
            self._body(rest)
            return

    @staticmethod
    def _kept_length(version: bytes, status: int, lines: list[bytes]) -> int | None:
        """The answer body's length when the connection can serve another request after it."""
        length: int | None = 0 if status in _NO_BODY else None
        if version != b"HTTP/1.1" or status == 101:
            return None
        for line in lines:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"connection" and b"close" in value.lower():
                return None
            if name == b"transfer-encoding":
                return None
            if name == b"content-length" and status not in _NO_BODY:
                value = value.strip()
                if not value.isdigit() or length is not None:
                    return None
                length = int(value)
        return length if length is not None and length <= MAX_KEPT_BODY else None

    def _body(self, received: int) -> None:
        self.body_left -= received
        if self.body_left == 0:
            self.pool.release(self)
        elif self.body_left < 0:
            self.close()

    def stale(self, now: float) -> bool:
        """Idle, or waiting for the rest of a body, for longer than ``KEEPALIVE_S``."""
        answered = self.answer is None or self.answer.done()
        return answered and now - self.since > KEEPALIVE_S

    def _fail(self, exc: Exception) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(exc)
        self.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()  # nothing of ours is left to send

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.forget(self)
        if self.answer is not None and not self.answer.done():
            kind = BadAnswer if self.buffer else Dropped
            self.answer.set_exception(kind("the receiver closed the connection"))


class Pool:
    """Keep-alive connections to receivers, reused one request at a time."""

    def __init__(self, tls: ssl.SSLContext | None = None, max_idle: int = 256) -> None:
        self.idle: dict[tuple[str, int, bool], list[Connection]] = {}
        self.idle_count = 0
        self.max_idle = max_idle
        self.open: set[Connection] = set()
        self.tls = tls
        """The context https connections verify receivers with (``default_tls`` if None)."""
        self._sweep: asyncio.TimerHandle | None = None

    async def post(self, url: str, headers: bytes, body: bytes) -> int:
        """POST ``body`` to ``url`` with ``headers`` (each line ending in CRLF); returns the
        answer's status. Raises ``OSError`` or ``BadAnswer`` when there is no answer, and
        ``ValueError`` for a URL that is not http(s). Bound it with a timeout: a receiver
        that never answers is waited for."""
        where = target(url)
        request = b"%b%bContent-Length: %d\r\n\r\n%b" % (where.head, headers, len(body), body)
        kept = self._idle_one(where.key)
        if kept is not None:
            try:
                return await self._send(kept, request)
            except Dropped:
                pass  # the receiver closed it as it sat idle: a new connection, once
        return await self._send(await self._connect(where), request)

    @staticmethod
    async def _send(connection: Connection, request: bytes) -> int:
        try:
            return await connection.send(request)
        except BaseException:
            connection.close()  # a timeout or a cancel mid-answer: its framing is lost
            raise

    def _idle_one(self, key: tuple[str, int, bool]) -> Connection | None:
        kept = self.idle.get(key)
        while kept:
            connection = kept.pop()
            self.idle_count -= 1
            if not kept:
                del self.idle[key]  # receivers come and go: keep no entry for idle ones
            transport = connection.transport
            if transport is not None and not transport.is_closing():
                return connection
        return None

    async def _connect(self, where: Target) -> Connection:
        loop = asyncio.get_running_loop()
        if where.tls and self.tls is None:
            self.tls = await loop.run_in_executor(None, default_tls)
        _, connection = await loop.create_connection(
            lambda: Connection(self, where.key),
            where.host,
            where.port,
            ssl=self.tls if where.tls else None,
            server_hostname=where.host if where.tls else None,
        )
        return connection

    def opened(self, connection: Connection) -> None:
        self.open.add(connection)
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(KEEPALIVE_S / 3, self._close_stale)

    def _close_stale(self) -> None:
        now = asyncio.get_running_loop().time()
        for connection in [c for c in self.open if c.stale(now)]:
            connection.close()
        self._sweep = None
        if self.open:
            self._sweep = asyncio.get_running_loop().call_later(KEEPALIVE_S / 3, self._close_stale)

    def release(self, connection: Connection) -> None:
        """``connection`` finished an answer: the next request to its receiver takes it."""
        if self.idle_count >= self.max_idle:
            connection.close()
        elif connection in self.open:
            self.idle.setdefault(connection.key, []).append(connection)
            self.idle_count += 1
            connection.since = asyncio.get_running_loop().time()

    def forget(self, connection: Connection) -> None:
        self.open.discard(connection)
        kept = self.idle.get(connection.key)
        if kept is not None and connection in kept:
            kept.remove(connection)
            self.idle_count -= 1
            if not kept:
                del self.idle[connection.key]

    def close(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for connection in list(self.open):
            connection.close()
