"""The worker's WebSocket: the orchestrator pushes commands (``cancel_task``,
``drain_worker``) to the worker, and the worker sends its task results on it when the
orchestrator's ``hello`` says it takes them (one message and its answer instead of an HTTP
request each).

The channel is an optimisation, not a requirement: a cancel or a drain that finds no socket
reaches the worker in its next heartbeat answer (and a drained worker's long-poll is refused),
and a result that gets no answer on it goes over HTTP. That is why it reconnects forever with
backoff and never stops the worker, except when the orchestrator rejects the token.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any, get_args

import msgspec
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.frames import CloseCode
from yarl import URL

from .backoff import Backoff
from .config import WorkerSettings, redact_url
from .errors import AuthError, api_error
from .protocol import (
    MAX_BATCH,
    CancelCommand,
    Command,
    DrainCommand,
    Hello,
    Refused,
    ResultAck,
    ResultRefused,
)

__all__ = ["CancelCallback", "ChannelUnavailable", "CommandChannel"]

logger = logging.getLogger("worker_sdk")

CancelCallback = Callable[[str, str, int | None], object]
"""Called with ``(job_id, task_id, attempt)`` for each ``cancel_task`` command; ``attempt`` is
None when the command names none (an older orchestrator): every attempt is meant."""


_SECRET_HEADERS = {"x-worker-token", "authorization"}
"""Authorization: websockets turns ``user:password@`` in the URL into Basic credentials."""


class _RedactToken(logging.Filter):
    """websockets logs every handshake header at DEBUG, the worker token included."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and str(args[0]).lower() in _SECRET_HEADERS:
            record.args = (args[0], "<redacted>")
        return True


_COMMANDS = {kind.__struct_config__.tag for kind in get_args(Command)}
"""The ``type`` of every message ``protocol.Command`` reads; another is a newer orchestrator's."""
Answer = ResultAck | ResultRefused | Refused
"""The orchestrator's answer to a result sent on the socket."""
_DECODER = msgspec.json.Decoder(Command)
_ws_logger = logging.getLogger("worker_sdk.websockets")
_ws_logger.addFilter(_RedactToken())

# Short close handshake: a worker that is stopping should not wait on a dead orchestrator.
CLOSE_TIMEOUT_S = 2.0
COMMAND_BACKOFF = Backoff(0.5, 10.0)


class ChannelUnavailable(Exception):
    """The socket did not carry a result: not connected (or the orchestrator takes no results
    on it), closed before the answer, no answer in time, or the message was not understood.
    Nothing says the result was applied, or that it was not: send it over HTTP (a result
    applied twice is applied once)."""


class _Link:
    """One open connection's results: their ids and the answers awaited."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.max_bytes = 0
        """The largest message the orchestrator takes; 0 until its ``hello`` offers results."""
        self.hands_tasks = False
        """Whether a result's answer may carry the next tasks (its ``hello`` says so)."""
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future[Answer]] = {}
        self.closed = False

    def answer(self, message: Answer) -> None:
        waiter = None if message.id is None else self.waiting.pop(message.id, None)
        if waiter is None:
            if isinstance(message, Refused):  # about a message that had no usable id
                logger.warning("the orchestrator refused a message: %s", message.message)
            return
        if not waiter.done():
            waiter.set_result(message)

    def close(self) -> None:
        self.closed = True
        for waiter in self.waiting.values():
            if not waiter.done():
                waiter.set_exception(ChannelUnavailable("the WebSocket closed before the answer"))
        self.waiting.clear()


class CommandChannel:
    """Keeps the command WebSocket open and hands its commands to callbacks.

    Args:
        settings: Orchestrator URL, token and worker id.
        on_cancel: Called with ``(job_id, task_id, attempt)`` for ``cancel_task``; must not
            block.
        on_drain: Called for ``drain_worker``; must not block.
        backoff: Delays between reconnection attempts; reset after each successful connect.
    """

    def __init__(
        self,
        settings: WorkerSettings,
        on_cancel: CancelCallback,
        *,
        on_drain: Callable[[], object] | None = None,
        backoff: Backoff = COMMAND_BACKOFF,
    ) -> None:
        base = URL(settings.url)
        scheme = "wss" if base.scheme == "https" else "ws"
        self.url = str(base.joinpath("_worker", "ws", settings.worker_id).with_scheme(scheme))
        self._token = settings.token
        self._on_cancel = on_cancel
        self._on_drain = on_drain
        self._backoff = backoff
        self._connected = False
        self._opened = False
        self._link: _Link | None = None

    @property
    def connected(self) -> bool:
        """Whether the socket is open right now."""
        return self._connected

    @property
    def takes_results(self) -> bool:
        """Whether the socket is open and the orchestrator takes results on it."""
        return self._link is not None and self._link.max_bytes > 0

    async def send_result(
        self,
        body: dict[str, Any],
        timeout_s: float,
        *,
        want: int = 0,
        handed: list[Any] | None = None,
    ) -> str:
        """Send a result (the body of ``POST /_worker/tasks/result``) and wait for its answer.

        With ``want`` and ``handed``, and an orchestrator that offers it, the answer also
        brings up to ``want`` tasks ready at once, leased to this worker: they are appended
        to ``handed`` (as the JSON objects a long-poll answers), and must be run or declined.

        Returns:
            The orchestrator's ``status``, as HTTP would answer it.

        Raises:
            ApiError: (or a subclass) the orchestrator refused the result, as HTTP would have.
            ChannelUnavailable: No answer came: send the result over HTTP.
        """
        link = self._link
        if link is None or not link.max_bytes:
            raise ChannelUnavailable("the WebSocket takes no results now")
        message_id = next(link.ids)
        message: dict[str, Any] = {"type": "result", "id": message_id, "body": body}
        if want and handed is not None and link.hands_tasks:
            message["next"] = min(want, MAX_BATCH)
        # orjson, as over HTTP: handler data may hold what only orjson encodes (or encodes so)
        data = orjson.dumps(message)
        if len(data) > link.max_bytes:
            raise ChannelUnavailable(f"larger than the WebSocket takes ({link.max_bytes} bytes)")
        waiter: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        link.waiting[message_id] = waiter
        try:
            async with asyncio.timeout(timeout_s):
                if link.closed:
                    raise ChannelUnavailable("the WebSocket closed")
                await link.ws.send(data.decode())
                answer = await waiter
        except TimeoutError:
            raise ChannelUnavailable(f"no answer on the WebSocket in {timeout_s:g}s") from None
        except ConnectionClosed as exc:
            raise ChannelUnavailable(f"the WebSocket closed ({exc})") from None
        finally:
            link.waiting.pop(message_id, None)
        if isinstance(answer, ResultAck) and answer.tasks:
            if handed is None:  # not asked for: an orchestrator's bug, but leased all the same
                logger.error("a result's answer brought %d task(s) unasked", len(answer.tasks))
            else:
                handed += answer.tasks
        return _status(answer)

    async def run(self) -> None:
        """Connect, dispatch commands and reconnect, until cancelled.

        Raises:
            AuthError: The orchestrator rejected the token during the handshake.
        """
        delays = self._backoff.delays()
        failures = 0
        while True:
            self._opened = False
            try:
                await self._session()
                reason = "closed by the orchestrator"
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    raise AuthError(
                        status, "UNAUTHORIZED", "WebSocket handshake rejected"
                    ) from None
                reason = str(exc)
            except (OSError, TimeoutError, WebSocketException) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            if self._opened:
                delays, failures = self._backoff.delays(), 0
            failures += 1
            delay = next(delays)
            # One warning per outage; the retries of a long outage would flood the log.
            log = logger.warning if failures == 1 else logger.debug
            log("command channel down (%s); reconnecting in %.1fs", reason, delay)
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        async with connect(
            self.url,
            additional_headers={"X-Worker-Token": self._token},
            # aiohttp ignores proxy variables too (trust_env=False); keep both paths alike.
            proxy=None,
            # Messages are small JSON: compressing each costs more CPU than it saves bytes.
            compression=None,
            close_timeout=CLOSE_TIMEOUT_S,
            logger=_ws_logger,
        ) as ws:
            self._connected = self._opened = True
            self._link = link = _Link(ws)
            logger.info("command channel connected to %s", redact_url(self.url))
            try:
                async for message in ws:
                    self._dispatch(message)
            except asyncio.CancelledError:
                # A stopping worker is "going away", not the internal error websockets assumes.
                await ws.close(CloseCode.GOING_AWAY, "worker stopping")
                raise
            finally:
                self._connected = False
                self._link = None
                link.close()

    def _dispatch(self, message: str | bytes) -> None:
        command = _read(message)
        if isinstance(command, ResultAck | ResultRefused | Refused):
            if self._link is not None:
                self._link.answer(command)
        elif isinstance(command, Hello):
            self._hello(command)
        elif isinstance(command, DrainCommand):
            if self._on_drain is not None:
                self._on_drain()
        elif isinstance(command, CancelCommand):
            try:
                self._on_cancel(command.job_id, command.task_id, command.attempt)
            except Exception:
                logger.exception("cancel callback failed for task %s", command.task_id)

    def _hello(self, hello: Hello) -> None:
        """The orchestrator says what it takes on this socket: results, up to a size."""
        if self._link is None or "result" not in hello.accepts:
            return
        if hello.max_message_bytes > 0:
            self._link.max_bytes = hello.max_message_bytes
            self._link.hands_tasks = "next" in hello.accepts
            logger.info(
                "results go over the command channel (messages up to %d bytes)",
                hello.max_message_bytes,
            )


def _read(message: str | bytes) -> Command | None:
    """The message as its ``protocol.Command``; None (logged) for one this SDK cannot read,
    quietly for a command of a newer orchestrator."""
    try:
        command: Command = _DECODER.decode(message)
        return command
    except msgspec.DecodeError as exc:  # not JSON, or not a Command: say which
        problem = exc
    try:
        raw = orjson.loads(message)
    except orjson.JSONDecodeError:
        logger.warning("ignoring a command that is not JSON: %.200r", message)
        return None
    if not isinstance(raw, dict):
        logger.warning("ignoring a command that is not an object: %.200r", raw)
    elif raw.get("type") not in _COMMANDS:
        logger.debug("ignoring unknown command %r", raw.get("type"))
    else:
        logger.warning(
            "ignoring a %s command it cannot read (%s): %.200r", raw["type"], problem, raw
        )
    return None


def _status(answer: Answer) -> str:
    """The status of a ``result_ack``; the ``ApiError`` of a ``result_error``."""
    if isinstance(answer, ResultAck):
        return answer.status
    if isinstance(answer, Refused):
        raise ChannelUnavailable(f"the WebSocket did not take it: {answer.message}")
    code = answer.code or f"HTTP_{answer.http_status}"
    raise api_error(answer.http_status, code, answer.message, answer.details)
