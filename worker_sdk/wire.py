"""The bodies of the ``/_worker`` API the SDK reads: the register answer, a task, a cancel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from msgspec import UNSET

from . import protocol

__all__ = ["Beat", "CancelledTask", "Registration", "TaskAssignment", "UnreadableTask"]


@dataclass(frozen=True)
class Registration:
    """The orchestrator's answer to ``register``: the timings it expects from the worker."""

    heartbeat_interval_s: float
    lease_s: float
    poll_timeout_s: float

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> Registration:
        """Parse the register answer (``protocol.Registered``), keeping sane defaults for
        missing or bad numbers."""
        values: Mapping[str, Any] = body
        try:
            values = msgspec.structs.asdict(msgspec.convert(body, protocol.Registered))
        except msgspec.ValidationError:  # not quite the shape (an older orchestrator's)
            pass
        return cls(
            heartbeat_interval_s=_positive(values.get("heartbeat_interval_s"), 10.0),
            lease_s=_positive(values.get("lease_s"), 30.0),
            poll_timeout_s=_positive(values.get("poll_timeout_s"), 30.0),
        )


class UnreadableTask(ValueError):
    """A task body this SDK cannot read.

    ``delivery`` is ``(job_id, task_id, attempt)`` when the body still names them, so the
    worker can decline the delivery instead of holding a lease it will never run.
    """

    def __init__(self, message: str, delivery: tuple[str, str, int] | None) -> None:
        super().__init__(message)
        self.delivery = delivery


@dataclass(frozen=True)
class TaskAssignment:
    """A task handed to this worker by ``GET .../tasks/next``."""

    job_id: str
    task_id: str
    task_type: str
    params: dict[str, Any]
    attempt: int
    max_attempts: int
    timeout_s: float | None

    @classmethod
    def from_wire(cls, body: object) -> TaskAssignment:
        """Parse a task body.

        Raises:
            UnreadableTask: (a ``ValueError``) When a required field is missing or has the
                wrong type.
        """
        try:
            task = msgspec.convert(body, protocol.Task)
        except msgspec.ValidationError:
            return cls._leniently(body)
        return cls(
            task.job_id,
            task.task_id,
            task.task_type,
            task.params,
            task.attempt,
            task.max_attempts,
            task.timeout_s,
        )

    @classmethod
    def _leniently(cls, body: object) -> TaskAssignment:
        """A body that is not quite a ``protocol.Task`` (an older orchestrator's): read what
        can be read, with defaults for the counts, rather than lose the delivery."""
        if not isinstance(body, dict):
            raise UnreadableTask(f"task body is {type(body).__name__}, not an object", None)
        problems = [
            key for key in ("job_id", "task_id", "task_type") if not isinstance(body.get(key), str)
        ]
        params = body.get("params") or {}
        if not isinstance(params, dict):
            problems.append("params")
        if problems:
            message = f"task body has missing or invalid {', '.join(problems)}"
            raise UnreadableTask(message, _delivery(body))
        timeout = body.get("timeout_s")
        return cls(
            job_id=body["job_id"],
            task_id=body["task_id"],
            task_type=body["task_type"],
            params=params,
            attempt=_int(body.get("attempt"), 1),
            max_attempts=_int(body.get("max_attempts"), 1),
            timeout_s=float(timeout) if isinstance(timeout, int | float) else None,
        )


@dataclass(frozen=True)
class CancelledTask:
    """A task the orchestrator cancelled, as listed in a heartbeat answer."""

    job_id: str
    task_id: str
    attempt: int | None = None
    """The attempt to stop; None (an older orchestrator) means every attempt."""


@dataclass(frozen=True)
class Beat:
    """The orchestrator's answer to a heartbeat."""

    cancelled: list[CancelledTask]
    """Tasks cancelled since the last heartbeat (their WebSocket command may have been lost)."""
    draining: bool = False
    """An operator asked this worker to drain (``POST /api/v1/workers/{id}/drain``)."""

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> Beat:
        """Parse a heartbeat answer (``protocol.HeartbeatAnswer``); one not quite of that
        shape (an older orchestrator's) is read for what it holds."""
        try:
            answer = msgspec.convert(body, protocol.HeartbeatAnswer)
        except msgspec.ValidationError:
            return cls._leniently(body)
        return cls(
            cancelled=[
                CancelledTask(c.job_id, c.task_id, None if c.attempt is UNSET else c.attempt)
                for c in answer.cancelled_tasks
            ],
            draining=answer.draining is True,
        )

    @classmethod
    def _leniently(cls, body: Mapping[str, Any]) -> Beat:
        cancelled = body.get("cancelled_tasks") or []
        return cls(
            cancelled=[
                CancelledTask(str(item["job_id"]), str(item["task_id"]), _attempt(item))
                for item in cancelled
                if isinstance(item, dict) and "job_id" in item and "task_id" in item
            ],
            draining=body.get("draining") is True,
        )


def _delivery(body: dict[str, Any]) -> tuple[str, str, int] | None:
    """(job_id, task_id, attempt) of a task body, if it names all three."""
    job_id, task_id, attempt = body.get("job_id"), body.get("task_id"), body.get("attempt")
    if not isinstance(job_id, str) or not isinstance(task_id, str):
        return None
    if isinstance(attempt, bool) or not isinstance(attempt, int):
        return None
    return job_id, task_id, attempt


def _positive(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _attempt(item: Mapping[str, Any]) -> int | None:
    attempt = item.get("attempt")
    return attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else None
