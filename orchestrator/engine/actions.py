"""What a handler may decide, and the ``actions`` object it decides through."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.engine.model import JSON, RetryPolicy


@dataclass(frozen=True)
class GoTo:
    state: str


@dataclass(frozen=True)
class DispatchTask:
    task_type: str
    params: JSON
    transitions: dict[str, str]
    timeout_s: float | None
    retry: RetryPolicy
    priority: int
    dispatch_timeout_s: float | None


@dataclass(frozen=True)
class Finish:
    result: Any


@dataclass(frozen=True)
class Fail:
    code: str
    message: str


Action = GoTo | DispatchTask | Finish | Fail


class ActionError(Exception):
    """A handler used ``actions`` wrongly; the job fails with ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Actions:
    """Handed to a handler as ``actions``; it must choose exactly one action."""

    def __init__(self) -> None:
        self._chosen: Action | None = None

    @property
    def chosen(self) -> Action | None:
        return self._chosen

    def _choose(self, action: Action) -> None:
        if self._chosen is not None:
            raise ActionError(
                "MULTIPLE_ACTIONS",
                f"a handler chose {type(action).__name__} after {type(self._chosen).__name__}; "
                "call exactly one action",
            )
        self._chosen = action

    def go_to(self, state: str) -> None:
        """Move to ``state`` and run its handler."""
        self._choose(GoTo(state))

    def dispatch_task(
        self,
        task_type: str,
        params: Mapping[str, Any] | None = None,
        *,
        transitions: Mapping[str, str],
        timeout: float | None = None,
        retries: int = 3,
        priority: int = 0,
        dispatch_timeout: float | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        """Hand a task to a worker and move on when its result arrives.

        Args:
            task_type: the skill a worker must have.
            params: JSON data given to the worker.
            transitions: result status (``"success"``, ``"failure"``, or a custom one the
                worker reports) → next state.
            timeout: seconds a worker may run one attempt (passed to the worker).
            retries: extra attempts after a retryable failure or a lost lease.
            priority: 0 (default) to 9; higher is taken first, FIFO within a priority.
            dispatch_timeout: seconds the task may wait for a worker; overrides the job's.
            retry_policy: the full policy; ``retries`` sets only its attempt count.
        """
        if not isinstance(task_type, str) or not task_type:
            raise ActionError("INVALID_ACTION", "dispatch_task needs a task type")
        if not 0 <= priority <= 9:
            raise ActionError("INVALID_ACTION", f"priority must be 0..9, got {priority}")
        if not transitions:
            raise ActionError("INVALID_ACTION", "dispatch_task needs transitions={status: state}")
        policy = retry_policy or RetryPolicy()
        if retry_policy is None:
            policy = RetryPolicy(max_attempts=max(0, retries) + 1)
        self._choose(
            DispatchTask(
                task_type=task_type,
                params=dict(params or {}),
                transitions=dict(transitions),
                timeout_s=timeout,
                retry=policy,
                priority=priority,
                dispatch_timeout_s=dispatch_timeout,
            )
        )

    def finish(self, result: Any = None) -> None:
        """End the job ``finished`` with ``result`` (an end state may also just return it)."""
        self._choose(Finish(result))

    def fail(self, code: str, message: str = "") -> None:
        """End the job ``failed`` with an error code."""
        self._choose(Fail(code, message))
