"""Run a task handler in a unit test, without an orchestrator.

Example::

    from worker_sdk.testing import run_task
    from my_tasks import worker

    async def test_echo() -> None:
        outcome = await run_task(worker, "echo", {"x": 1})
        assert outcome.status == "success"
        assert outcome.data == {"echo": {"x": 1}}
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .context import TaskContext
from .handlers import HandlerFunc, TaskHandler, invoke, make_handler
from .results import ErrorInfo, TaskOutcome
from .worker import Worker

__all__ = ["ErrorInfo", "TaskOutcome", "make_context", "run_task"]

_CONTEXT_FIELDS = frozenset(f.name for f in dataclasses.fields(TaskContext)) - {"params"}


def make_context(task_type: str, params: dict[str, Any], **overrides: Any) -> TaskContext:
    """A :class:`TaskContext` with test defaults, any field overridden by keyword.

    Raises:
        TypeError: An override names no ``TaskContext`` field.
    """
    unknown = sorted(set(overrides) - _CONTEXT_FIELDS)
    if unknown:
        raise TypeError(
            f"unknown TaskContext field(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(sorted(_CONTEXT_FIELDS))}"
        )
    defaults: dict[str, Any] = {
        "job_id": "test-job",
        "task_id": "test-task",
        "task_type": task_type,
        "attempt": 1,
        "max_attempts": 1,
        "worker_id": "test-worker",
        "params": params,
    }
    return TaskContext(**(defaults | overrides))


async def run_task(
    worker_or_handler: Worker | HandlerFunc,
    task_type: str | None,
    params: dict[str, Any],
    **ctx_overrides: Any,
) -> TaskOutcome:
    """Run one task the way the worker would and return what it would send.

    Args:
        worker_or_handler: A :class:`~worker_sdk.Worker` (the handler is looked up by
            ``task_type``) or a handler function.
        task_type: The task type; may be ``None`` with a bare handler (its name is used).
        params: The task parameters.
        **ctx_overrides: :class:`~worker_sdk.TaskContext` fields to set, such as
            ``attempt=3`` or ``job_id="j-1"``.

    Returns:
        The outcome: ``status``, ``data`` and ``error`` as the orchestrator would receive them,
        plus the raised ``exception``, if any.

    Raises:
        KeyError: The worker has no handler for ``task_type``.
        TypeError: A bad handler or an unknown context field.
    """
    handler = _resolve(worker_or_handler, task_type)
    ctx = make_context(handler.task_type, params, **ctx_overrides)
    return await invoke(handler, params, ctx)


def _resolve(worker_or_handler: Worker | HandlerFunc, task_type: str | None) -> TaskHandler:
    if isinstance(worker_or_handler, Worker):
        if task_type is None:
            raise TypeError("run_task(worker, ...) needs the task type")
        try:
            return worker_or_handler.handlers[task_type]
        except KeyError:
            known = ", ".join(worker_or_handler.task_types) or "none"
            raise KeyError(f"no handler for {task_type!r} (registered: {known})") from None
    name = task_type or str(getattr(worker_or_handler, "__name__", "task"))
    return make_handler(name, worker_or_handler)
