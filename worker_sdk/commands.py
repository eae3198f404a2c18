"""The WebSocket command channel: the orchestrator pushes commands (``cancel_task``,
``drain_worker``) to the worker.

The channel is an optimisation, not a requirement: a cancel or a drain that finds no socket
reaches the worker in its next heartbeat answer (and a drained worker's long-poll is refused).
That is why it reconnects forever with backoff and never stops the worker, except when the
orchestrator rejects the token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.frames import CloseCode
from yarl import URL

from .backoff import Backoff
from .config import WorkerSettings, redact_url
from .errors import AuthError

__all__ = ["CancelCallback", "CommandChannel"]

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


_ws_logger = logging.getLogger("worker_sdk.websockets")
_ws_logger.addFilter(_RedactToken())

# Short close handshake: a worker that is stopping should not wait on a dead orchestrator.
CLOSE_TIMEOUT_S = 2.0
COMMAND_BACKOFF = Backoff(0.5, 10.0)


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

    @property
    def connected(self) -> bool:
        """Whether the socket is open right now."""
        return self._connected

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
            close_timeout=CLOSE_TIMEOUT_S,
            logger=_ws_logger,
        ) as ws:
            self._connected = self._opened = True
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

    def _dispatch(self, message: str | bytes) -> None:
        try:
            command = orjson.loads(message)
        except orjson.JSONDecodeError:
            logger.warning("ignoring a command that is not JSON: %.200r", message)
            return
        if not isinstance(command, dict):
            logger.warning("ignoring a command that is not an object: %.200r", command)
            return
        kind = command.get("type")
        if kind == "drain_worker" and self._on_drain is not None:
            self._on_drain()
            return
        if kind != "cancel_task":
            logger.debug("ignoring unknown command %r", kind)
            return
        task_id = command.get("task_id")
        if not isinstance(task_id, str):
            logger.warning("ignoring cancel_task without a task_id: %.200r", command)
            return
        attempt = command.get("attempt")
        if not isinstance(attempt, int) or isinstance(attempt, bool):
            attempt = None  # an orchestrator that names no attempt means them all
        try:
            self._on_cancel(str(command.get("job_id", "")), task_id, attempt)
        except Exception:
            logger.exception("cancel callback failed for task %s", task_id)
