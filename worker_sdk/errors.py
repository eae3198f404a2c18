"""Errors of the worker SDK.

Two families live here, and they never mix:

* ``TaskError`` is raised *by task handlers* to choose how a task ends::

      TaskError            status "failure" (or the status it names), not retried
       +-- RetryLater      status "failure", retryable: the orchestrator may try again

* ``ApiError`` is raised *by the SDK* when the orchestrator answers with an error
  envelope ``{"error": {"code", "message", "details"}}``::

      ApiError                 any non-2xx answer (5xx ones are retried by the SDK)
       +-- AuthError           401/403: the worker token is wrong; the worker stops
       +-- WorkerNotRegistered 404 WORKER_NOT_REGISTERED: the worker re-registers
       +-- TaskNotHeld         409 TASK_NOT_HELD: the result is dropped, never retried
       +-- WorkerDraining      409 WORKER_DRAINING: the worker was drained; it stops polling
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

__all__ = [
    "ApiError",
    "AuthError",
    "OrchestratorError",
    "RetryLater",
    "TaskError",
    "TaskNotHeld",
    "WorkerDraining",
    "WorkerNotRegistered",
]


class TaskError(Exception):
    """Raised by a handler to end its task with an error the blueprint can act on.

    Args:
        code: Machine-readable code, by convention ``UPPER_SNAKE`` (e.g. ``"MISSING_FIELDS"``).
        message: Human-readable explanation.
        retryable: Whether the orchestrator may run the task again (within its attempts).
        status: Result status the blueprint maps to a transition. ``"failure"`` unless a
            handler wants a custom outcome such as ``"not_found"``.
        data: Optional JSON object sent along with the error.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        retryable: bool = False,
        status: str = "failure",
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.status = status
        self.data = data
        self.retry_after_s: float | None = None
        """Seconds the worker asks the orchestrator to wait before the next attempt."""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


class RetryLater(TaskError):
    """A retryable ``TaskError``: the task failed for a reason that may pass (a busy upstream).

    Args:
        message: Why, recorded in the job's history (``reason=`` is the same).
        code: The error code; the blueprint's ``non_retryable`` codes are never retried.
        after: Seconds to wait before the next attempt, or an aware ``datetime`` to wait
            until. ``None``: the blueprint's backoff. The orchestrator caps it at the retry
            policy's ``max_interval_s``, and the attempt still counts toward ``max_attempts``.
        reason: Alias of ``message``, for ``RetryLater(after=30, reason="rate limited")``.
    """

    def __init__(
        self,
        message: str = "",
        code: str = "RETRY_LATER",
        *,
        after: float | datetime | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(code, reason if reason is not None else message, retryable=True)
        # Converted to seconds now, on the worker's clock: the orchestrator's clock may differ,
        # and a relative delay is what it schedules.
        self.retry_after_s = _seconds(after)


def _seconds(after: float | datetime | None) -> float | None:
    if after is None:
        return None
    if isinstance(after, datetime):
        if after.tzinfo is None:
            raise ValueError("RetryLater(after=datetime): the datetime must be timezone-aware")
        return max(0.0, after.timestamp() - time.time())
    if isinstance(after, bool) or not isinstance(after, int | float) or not math.isfinite(after):
        raise ValueError(f"RetryLater(after=...) must be seconds or a datetime, not {after!r}")
    return max(0.0, float(after))


class ApiError(Exception):
    """The orchestrator answered a request with an error.

    Attributes:
        http_status: HTTP status of the answer.
        code: ``error.code`` from the envelope, or ``HTTP_<status>`` when the body had none.
        message: ``error.message`` from the envelope.
        details: ``error.details`` from the envelope.
    """

    def __init__(
        self,
        http_status: int,
        code: str,
        message: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(http_status, code, message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.details = details or {}

    @property
    def transient(self) -> bool:
        """Whether the same request may succeed later (the orchestrator is busy or restarting)."""
        return self.http_status >= 500 or self.http_status == 429

    def __str__(self) -> str:
        text = f"HTTP {self.http_status} {self.code}"
        return f"{text}: {self.message}" if self.message else text


OrchestratorError = ApiError
"""Deprecated: ``ApiError``'s old name, which the orchestrator's own base error also has."""


class AuthError(ApiError):
    """The orchestrator rejected the worker token; retrying cannot help."""

    def at_registration(self, url: str) -> str:
        """What to tell whoever started a worker refused when it registered at ``url``
        (already redacted)."""
        if self.code == "MISSING_AUTH_HEADER":
            # Only the client API (/api) answers this code: the URL's path led there.
            return (
                f"{url} answered as the orchestrator's client API, not its worker routes "
                f"({self}): give the orchestrator's base URL, without /api (--url / ORCH_URL)"
            )
        return f"the orchestrator rejected the worker token ({self})"


class WorkerNotRegistered(ApiError):
    """The orchestrator forgot this worker (its TTL expired); the worker registers again."""


class TaskNotHeld(ApiError):
    """This worker no longer holds the task (lease expired or job cancelled)."""


class WorkerDraining(ApiError):
    """An operator drained this worker: it takes no new tasks, finishes its own and stops."""


def api_error(
    http_status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> ApiError:
    """The ``ApiError`` subclass for an error answer, however it came (HTTP or WebSocket)."""
    if http_status in (401, 403):
        return AuthError(http_status, code, message, details)
    if http_status == 404 and code == "WORKER_NOT_REGISTERED":
        return WorkerNotRegistered(http_status, code, message, details)
    if http_status == 409 and code == "TASK_NOT_HELD":
        return TaskNotHeld(http_status, code, message, details)
    if http_status == 409 and code == "WORKER_DRAINING":
        return WorkerDraining(http_status, code, message, details)
    return ApiError(http_status, code, message, details)
