"""How a handler's return value or exception becomes the result sent to the orchestrator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from msgspec import UNSET

from . import protocol
from .errors import TaskError

__all__ = ["ErrorInfo", "TaskOutcome", "TaskResult", "outcome_from_exception", "outcome_from_value"]

HANDLER_ERROR = "HANDLER_ERROR"
INVALID_RESULT = "INVALID_RESULT"


@dataclass(frozen=True)
class TaskResult:
    """Returned by a handler that wants a status other than ``"success"``.

    ``return TaskResult("not_found", {"id": 42})`` ends the task with status ``"not_found"``,
    which the blueprint maps to a transition. Returning a plain dict (or ``None``) is the same
    as ``TaskResult("success", that_dict)``.
    """

    status: str
    """Result status the blueprint maps to a transition."""
    data: dict[str, Any] | None = None
    """JSON object handed to the blueprint."""


@dataclass(frozen=True)
class ErrorInfo:
    """The ``error`` member of a result."""

    code: str
    message: str
    retryable: bool
    retry_after_s: float | None = None
    """The delay ``RetryLater(after=...)`` asked for; ``None``: the blueprint's backoff."""

    def to_wire(self) -> dict[str, Any]:
        """The JSON shape the orchestrator expects."""
        return protocol.wire(self.typed())

    def typed(self) -> protocol.ResultError:
        after = UNSET if self.retry_after_s is None else self.retry_after_s
        return protocol.ResultError(self.code, self.message, self.retryable, after)


@dataclass(frozen=True)
class TaskOutcome:
    """How a task ended: what the worker sends (or would send) to the orchestrator."""

    status: str
    """``"success"``, ``"failure"`` or a custom status."""
    data: dict[str, Any] | None = None
    """The result data."""
    error: ErrorInfo | None = None
    """Set when the handler raised."""
    exception: BaseException | None = field(default=None, compare=False, repr=False)
    """The exception the handler raised, kept for tests and logs; never sent."""

    @property
    def ok(self) -> bool:
        """Whether the handler returned normally with status ``"success"``."""
        return self.status == "success" and self.error is None

    def to_wire(self, *, job_id: str, task_id: str, worker_id: str, attempt: int) -> dict[str, Any]:
        """The body of ``POST /_worker/tasks/result``.

        ``attempt`` is the attempt that ran: the orchestrator applies the result to that
        attempt only, so a result that arrives after the task was handed out again (its lease
        lost) is refused rather than taken for the new attempt's.
        """
        error = self.error.typed() if self.error else None
        result = protocol.TaskResult(
            job_id, task_id, worker_id, self.status, self.data, error, attempt
        )
        return protocol.wire(result)


def outcome_from_value(value: object) -> TaskOutcome:
    """Map what a handler returned to an outcome.

    A dict or ``None`` means success; a :class:`TaskResult` names its status. Anything else,
    or data orjson cannot encode, is reported as a non-retryable ``INVALID_RESULT`` failure so
    the author sees it in tests rather than as a worker crash at submit time.
    """
    if isinstance(value, TaskResult):
        # Typed as a dict, but nothing stops a handler from putting anything there.
        raw: object = value.data
        if raw is not None and not isinstance(raw, dict):
            return _invalid(f"TaskResult.data is {type(raw).__name__}; expected dict or None")
        status, data = value.status, raw
    elif value is None or isinstance(value, dict):
        status, data = "success", value
    else:
        return _invalid(
            f"handler returned {type(value).__name__}; expected dict, None or TaskResult"
        )
    problem = _json_problem(data)
    if problem:
        return _invalid(problem)
    return TaskOutcome(status=status, data=data)


def outcome_from_exception(exc: Exception) -> TaskOutcome:
    """Map an exception raised by a handler to an outcome."""
    if isinstance(exc, TaskError):
        problem = _json_problem(exc.data)
        if problem:
            return _invalid(f"TaskError.data: {problem}", exc)
        error = ErrorInfo(
            code=exc.code,
            message=exc.message,
            retryable=exc.retryable,
            retry_after_s=exc.retry_after_s if exc.retryable else None,
        )
        return TaskOutcome(status=exc.status, data=exc.data, error=error, exception=exc)
    error = ErrorInfo(code=HANDLER_ERROR, message=repr(exc), retryable=False)
    return TaskOutcome(status="failure", error=error, exception=exc)


def _json_problem(data: object) -> str | None:
    if data is None:
        return None
    try:
        orjson.dumps(data)
    except TypeError as exc:
        return f"result data is not JSON-serialisable: {exc}"
    return None


def _invalid(message: str, exc: BaseException | None = None) -> TaskOutcome:
    error = ErrorInfo(code=INVALID_RESULT, message=message, retryable=False)
    return TaskOutcome(status="failure", error=error, exception=exc)
