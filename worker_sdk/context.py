"""The context a task handler runs in: who it is, which attempt, and whether it was cancelled."""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass, field
from typing import Any

from .progress import ProgressReporter, progress_body

__all__ = ["TaskContext", "current_context"]


@dataclass(frozen=True)
class TaskContext:
    """What a handler knows about the task it runs.

    A handler receives it as its second argument (``async def handler(params, ctx)``) or
    through :func:`current_context`, including from a sync handler running in a thread.
    """

    job_id: str
    """Job the task belongs to."""
    task_id: str
    """Task id, unique within the orchestrator."""
    task_type: str
    """Task type the handler was registered for."""
    attempt: int
    """1 for the first run; higher when the orchestrator retries the task."""
    max_attempts: int
    """How many attempts the orchestrator allows in all."""
    worker_id: str
    """Id of the worker running the task."""
    params: dict[str, Any] = field(hash=False)
    """The task parameters (the same object the handler receives as ``params``)."""
    timeout_s: float | None = None
    """How long the orchestrator gives the task, if it set a limit."""
    cancelled: asyncio.Event = field(default_factory=asyncio.Event, compare=False, repr=False)
    """Set when the orchestrator cancels the task, before the handler's asyncio task is
    cancelled. Long-running or sync handlers should check it between steps."""
    reporter: ProgressReporter | None = field(default=None, compare=False, repr=False)
    """Sends ``progress`` reports; ``None`` outside a worker (tests), where they are kept in
    ``progress_reports``."""
    progress_reports: list[dict[str, Any]] = field(default_factory=list, compare=False, repr=False)
    """Every report the handler made, newest last (for tests of handlers)."""

    async def progress(
        self,
        fraction: float | None = None,
        message: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Tell the orchestrator how far the task got: ``fraction`` from 0 to 1, a
        ``message``, and JSON ``data``. Cheap to call often: at most two reports a second
        go out per task, the newest one winning. Never raises for a lost report.

        Raises:
            ValueError: For a fraction outside 0..1, or fields of the wrong type.
        """
        body = progress_body(fraction, message, data)
        self.progress_reports.append(body)
        if self.reporter is not None:
            await self.reporter.report(body)

    @property
    def is_cancelled(self) -> bool:
        """Whether the orchestrator cancelled the task (safe to read from a thread)."""
        return self.cancelled.is_set()


_current: contextvars.ContextVar[TaskContext] = contextvars.ContextVar("worker_sdk_task_context")


def current_context() -> TaskContext:
    """Return the context of the task running in the caller's asyncio task or thread.

    Raises:
        RuntimeError: When called outside a task handler.
    """
    try:
        return _current.get()
    except LookupError:
        raise RuntimeError("current_context() called outside a task handler") from None


def bind_context(ctx: TaskContext) -> contextvars.Token[TaskContext]:
    """Make ``ctx`` the current context; undo with :func:`unbind_context`."""
    return _current.set(ctx)


def unbind_context(token: contextvars.Token[TaskContext]) -> None:
    """Restore the context that was current before :func:`bind_context`."""
    _current.reset(token)
