"""HTTP client for the orchestrator's ``/_worker`` API: register, heartbeat, poll, submit result."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import aiohttp
import orjson
from yarl import URL

from . import protocol
from .backoff import Backoff
from .commands import ChannelUnavailable, CommandChannel
from .config import WorkerSettings
from .errors import ApiError, AuthError, TaskNotHeld, api_error
from .wire import Beat, CancelledTask, Registration, TaskAssignment, UnreadableTask

__all__ = [
    "TRANSPORT_ERRORS",
    "Beat",
    "CancelledTask",
    "OrchestratorClient",
    "Registration",
    "TaskAssignment",
    "UnreadableTask",
]

logger = logging.getLogger("worker_sdk")

TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)
"""Errors meaning the orchestrator could not be reached or the connection broke."""

_PLAIN_HTTP = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"})
"""OpenSSL's words for a TLS handshake answered in plain HTTP (they vary by version)."""


def unreachable_reason(exc: BaseException) -> str:
    """``Type: message`` of a transport error, with the fix for an https:// URL given to a
    server that speaks plain HTTP (OpenSSL's "wrong version number" says nothing of it)."""
    text = f"{type(exc).__name__}: {exc}"
    cause = getattr(exc, "os_error", None) or exc
    if getattr(cause, "reason", None) in _PLAIN_HTTP:
        text += "; the server there speaks plain HTTP: use http://, not https://"
    return text


# Room over the long-poll wait for the server to answer and the response to travel.
POLL_MARGIN_S = 10.0
CONNECT_TIMEOUT_S = 10.0
# Results are idempotent server side, so retrying a lost answer is safe.
RESULT_BACKOFF = Backoff(0.2, 5.0)


class OrchestratorClient:
    """The worker's side of the ``/_worker`` HTTP API, over one ``aiohttp.ClientSession``.

    Use as ``async with OrchestratorClient(settings) as client: ...`` or call :meth:`open`
    and :meth:`close`.

    Args:
        settings: Where the orchestrator is, the token and this worker's identity.
        result_backoff: Delays between attempts to submit a result.
        result_attempts: Attempts to submit a result before it is logged and dropped.
        ack_timeout_s: How long a result sent on the WebSocket waits for its answer before
            it goes over HTTP; ``None``: as long as an HTTP request may take.
    """

    def __init__(
        self,
        settings: WorkerSettings,
        *,
        result_backoff: Backoff = RESULT_BACKOFF,
        result_attempts: int = 10,
        ack_timeout_s: float | None = None,
    ) -> None:
        self._settings = settings
        self._base = URL(settings.url)
        self._result_backoff = result_backoff
        self._result_attempts = result_attempts
        self._request_timeout_s = settings.poll_timeout_s + POLL_MARGIN_S
        self._ack_timeout_s = ack_timeout_s or self._request_timeout_s
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        """Create the HTTP session (needs a running event loop)."""
        if self._session is None:
            timeout = aiohttp.ClientTimeout(
                total=self._request_timeout_s, connect=CONNECT_TIMEOUT_S
            )
            self._session = aiohttp.ClientSession(
                headers={"X-Worker-Token": self._settings.token}, timeout=timeout
            )

    async def close(self) -> None:
        """Close the HTTP session; in-flight requests fail."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> OrchestratorClient:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def register(self, supported_skills: list[str]) -> Registration:
        """Register this worker, its skills, capacity, tags and labels."""
        body = protocol.wire(
            protocol.Registration(
                worker_id=self._settings.worker_id,
                supported_skills=supported_skills,
                capacity=self._settings.capacity,
                tags=list(self._settings.tags),
                labels=dict(self._settings.labels),
            )
        )
        answer = await self._request("POST", self._url("workers", "register"), body=body)
        return Registration.from_wire(answer or {})

    async def heartbeat(self, load: int, running_tasks: list[str]) -> Beat:
        """Refresh the worker's TTL and task leases; the answer lists the tasks cancelled
        meanwhile and says whether the worker should drain.

        Raises:
            WorkerNotRegistered: The orchestrator forgot the worker; register again.
        """
        body = protocol.wire(protocol.Heartbeat(load=load, running_tasks=running_tasks))
        path = self._url("workers", self._settings.worker_id)
        return Beat.from_wire(await self._request("PATCH", path, body=body) or {})

    async def deregister(self) -> None:
        """Tell the orchestrator this worker is gone (``DELETE /_worker/workers/{id}``): it
        leaves the workers list at once rather than when its heartbeats stop counting."""
        await self._request("DELETE", self._url("workers", self._settings.worker_id))

    async def announce_draining(self) -> None:
        """Tell the orchestrator this worker stops (``POST /_worker/workers/{id}/drain``): it
        shows as draining and gets no new task."""
        await self._request("POST", self._url("workers", self._settings.worker_id, "drain"))

    async def next_task(self, timeout_s: float) -> TaskAssignment | None:
        """Long-poll for a task; ``None`` when the wait ends empty.

        Raises:
            ValueError: The orchestrator sent a task this SDK cannot read.
        """
        url = self._url("workers", self._settings.worker_id, "tasks", "next")
        timeout = aiohttp.ClientTimeout(total=timeout_s + POLL_MARGIN_S, connect=CONNECT_TIMEOUT_S)
        answer = await self._request(
            "GET", url, params={"timeout": f"{timeout_s:g}"}, client_timeout=timeout
        )
        return None if answer is None else TaskAssignment.from_wire(answer)

    async def next_tasks(
        self, timeout_s: float, count: int
    ) -> list[TaskAssignment | UnreadableTask]:
        """Long-poll for up to ``count`` tasks (``?max=``): the orchestrator waits for the
        first, then adds only those ready at once. Empty when the wait ends empty.

        A task this SDK cannot read comes as its ``UnreadableTask``, in its place: the
        others of the batch are leased to this worker all the same, and must be run.
        """
        if count <= 1:  # the single form, which every orchestrator version speaks
            try:
                one = await self.next_task(timeout_s)
            except UnreadableTask as exc:
                return [exc]
            return [] if one is None else [one]
        url = self._url("workers", self._settings.worker_id, "tasks", "next")
        timeout = aiohttp.ClientTimeout(total=timeout_s + POLL_MARGIN_S, connect=CONNECT_TIMEOUT_S)
        params = {"timeout": f"{timeout_s:g}", "max": str(min(count, protocol.MAX_BATCH))}
        answer = await self._request("GET", url, params=params, client_timeout=timeout)
        if answer is None:
            return []
        tasks = answer.get("tasks") if isinstance(answer, dict) else None
        if not isinstance(tasks, list):
            tasks = [answer]  # an orchestrator older than batches ignores ``max``: one task
        return [_read(task) for task in tasks]

    async def submit_result(
        self,
        body: dict[str, Any],
        channel: CommandChannel | None = None,
        *,
        want: int = 0,
        handed: list[TaskAssignment | UnreadableTask] | None = None,
    ) -> str | None:
        """Send a task result, retrying while the orchestrator is unreachable or failing.

        With a ``channel`` that takes results, the result goes on that WebSocket first; when
        no answer comes there (not connected, closed, no answer within the HTTP request
        timeout) it goes over HTTP. The orchestrator accepts the same result twice, so
        sending it again is safe. A 409 (``TASK_NOT_HELD``: the lease was lost, or the body's
        ``attempt`` is no longer the one the job waits for) or another 4xx answer is logged
        and the result dropped, whichever way it came.

        ``want`` and ``handed``: the answer on the WebSocket may bring up to ``want`` tasks
        ready at once (``CommandChannel.send_result``), appended to ``handed``: leased to this
        worker, they must be run or declined.

        Returns:
            The orchestrator's ``status`` (``"result_accepted_success"``...), or ``None`` when
            the result was dropped.

        Raises:
            AuthError: The token was rejected.
        """
        what = f"result for task {body.get('task_id')} (attempt {body.get('attempt')})"
        if channel is not None and channel.takes_results:
            raw: list[Any] = []
            try:
                return await channel.send_result(
                    body, self._ack_timeout_s, want=want, handed=None if handed is None else raw
                )
            except ChannelUnavailable as exc:
                logger.info("%s goes over HTTP: %s", what, exc)
            except AuthError:
                raise
            except ApiError as exc:
                if _given_up(exc, what):
                    return None
                logger.info("%s goes over HTTP: answered %s on the WebSocket", what, exc)
            finally:
                if handed is not None:
                    handed += [_read(task) for task in raw]
        answer = await self._post_retrying(self._url("tasks", "result"), body, what)
        return None if answer is None else str(answer.get("status", ""))

    async def report_progress(self, body: dict[str, Any]) -> None:
        """One ``POST /_worker/tasks/progress``, not retried: the next report replaces it."""
        await self._request("POST", self._url("tasks", "progress"), body=body)

    async def decline_task(self, job_id: str, task_id: str, attempt: int, reason: str) -> bool:
        """Give back a task this worker was handed and will not run.

        The orchestrator queues it again at once, same attempt, rather than when its lease
        runs out (and heartbeats would keep that lease alive). Retried like a result.

        Returns:
            Whether the orchestrator released it; ``False`` when it answered that the worker
            did not hold that attempt (nothing left to give back) or could not be told.

        Raises:
            AuthError: The token was rejected.
        """
        decline = protocol.TaskDecline(
            job_id,
            task_id,
            self._settings.worker_id,
            attempt,
            reason[: protocol.MAX_DECLINE_REASON],
        )
        body = protocol.wire(decline)
        what = f"decline of task {task_id} (attempt {attempt})"
        return await self._post_retrying(self._url("tasks", "decline"), body, what) is not None

    async def _post_retrying(self, url: URL, body: dict[str, Any], what: str) -> Any:
        """POST until answered, retrying transport errors, 5xx and 429 with backoff.

        Returns:
            The answer (``{}`` when it had no body), or ``None`` when ``what`` was given up:
            refused (409 ``TASK_NOT_HELD``, another 4xx) or never delivered.
        """
        delays = self._result_backoff.delays()
        last_error: BaseException | None = None
        for attempt in range(1, self._result_attempts + 1):
            try:
                answer = await self._request("POST", url, body=body)
            except AuthError:
                raise
            except ApiError as exc:
                if _given_up(exc, what):
                    return None
                last_error = exc
            except TRANSPORT_ERRORS as exc:
                last_error = exc
            else:
                return answer or {}
            if attempt < self._result_attempts:
                delay = next(delays)
                logger.info(
                    "%s not delivered (%s); retry %d in %.2fs",
                    what,
                    _describe(last_error),
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)
        logger.error(
            "%s dropped after %d attempts: %s",
            what,
            self._result_attempts,
            _describe(last_error),
        )
        return None

    def _url(self, *segments: str) -> URL:
        return self._base.joinpath("_worker", *segments)

    async def _request(
        self,
        method: str,
        url: URL,
        *,
        body: object = None,
        params: Mapping[str, str] | None = None,
        client_timeout: aiohttp.ClientTimeout | None = None,
    ) -> Any:
        """One request; returns the decoded JSON body, or ``None`` for 204.

        Raises:
            ApiError: (or a subclass) for any non-2xx answer or an unreadable body.
        """
        if self._session is None:
            raise RuntimeError("OrchestratorClient is not open")
        data = None if body is None else orjson.dumps(body)
        headers = None if data is None else {"Content-Type": "application/json"}
        kwargs: dict[str, Any] = {} if client_timeout is None else {"timeout": client_timeout}
        async with self._session.request(
            method, url, data=data, params=params, headers=headers, **kwargs
        ) as resp:
            raw = await resp.read()
            if resp.status == 204:
                return None
            if 200 <= resp.status < 300:
                try:
                    return orjson.loads(raw) if raw else {}
                except orjson.JSONDecodeError:
                    raise ApiError(resp.status, "INVALID_RESPONSE", "body is not JSON") from None
            raise _error_from(resp.status, resp.reason or "", raw)


def _read(body: object) -> TaskAssignment | UnreadableTask:
    try:
        return TaskAssignment.from_wire(body)
    except UnreadableTask as exc:
        return exc


def _error_from(status: int, reason: str, raw: bytes) -> ApiError:
    code, message, details = f"HTTP_{status}", reason, None
    try:
        error = orjson.loads(raw).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        error = None
    if isinstance(error, dict):
        code = str(error.get("code") or code)
        message = str(error.get("message") or message)
        details = error.get("details") if isinstance(error.get("details"), dict) else None
    return api_error(status, code, message, details)


def _given_up(exc: ApiError, what: str) -> bool:
    """Whether an error answer refuses ``what`` for good (then logged); else it may be sent
    again (5xx, 429)."""
    if isinstance(exc, TaskNotHeld):
        logger.warning("%s dropped: worker no longer holds it (%s)", what, exc)
        return True
    if not exc.transient:
        logger.error("%s rejected and dropped: %s", what, exc)
        return True
    return False


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "no error"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
