"""Task handlers: checking a function once at registration, and calling it for one task."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .context import TaskContext, bind_context, unbind_context
from .errors import TaskError
from .results import INVALID_RESULT, TaskOutcome, outcome_from_exception, outcome_from_value

__all__ = ["HandlerFunc", "TaskHandler", "invoke", "make_handler"]

logger = logging.getLogger("worker_sdk")

HandlerFunc = Callable[..., Any]
"""``[async] def handler(params[, ctx]) -> dict | None | TaskResult``."""

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@dataclass(frozen=True)
class TaskHandler:
    """A registered handler and how to call it."""

    task_type: str
    func: HandlerFunc
    is_async: bool
    wants_context: bool

    async def call(self, params: dict[str, Any], ctx: TaskContext) -> object:
        """Run the handler; sync ones run in a thread so they cannot block the worker."""
        args: tuple[Any, ...] = (params, ctx) if self.wants_context else (params,)
        if self.is_async:
            value: object = await self.func(*args)
        else:
            value = await asyncio.to_thread(self.func, *args)
        # A sync wrapper around an async function (some decorators) hands back a coroutine.
        if inspect.isawaitable(value):
            value = await value
        return value


def make_handler(task_type: str, func: HandlerFunc) -> TaskHandler:
    """Check ``func`` can be called as a handler, listing every problem at once.

    Raises:
        TypeError: When ``func`` is not callable or cannot be called as ``func(params)`` or
            ``func(params, ctx)``.
    """
    if not callable(func):
        raise TypeError(f"handler for {task_type!r} is not callable: {func!r}")
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        # Some builtins have no signature; assume the documented two-argument form.
        return TaskHandler(task_type, func, _is_async(func), wants_context=True)
    params = list(signature.parameters.values())
    positional = [p for p in params if p.kind in _POSITIONAL]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    has_var_positional = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)
    problems = [
        f"keyword-only parameter {p.name!r} has no default"
        for p in params
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is inspect.Parameter.empty
    ]
    if len(required) > 2:
        problems.append(f"{len(required)} required positional parameters (at most 2: params, ctx)")
    if not positional and not has_var_positional:
        problems.append("it takes no positional parameter (expected params[, ctx])")
    if problems:
        name = getattr(func, "__qualname__", repr(func))
        raise TypeError(f"handler {name} for {task_type!r} is invalid: " + "; ".join(problems))
    wants_context = has_var_positional or len(positional) >= 2
    return TaskHandler(task_type, func, _is_async(func), wants_context)


async def invoke(handler: TaskHandler, params: dict[str, Any], ctx: TaskContext) -> TaskOutcome:
    """Run one task and map its return value or exception to an outcome.

    ``asyncio.CancelledError`` (and other ``BaseException``) propagates: a cancelled task has
    no outcome.
    """
    token = bind_context(ctx)
    try:
        value = await handler.call(params, ctx)
    except TaskError as exc:
        logger.info("task %s (job %s) raised %s", ctx.task_id, ctx.job_id, exc)
        return outcome_from_exception(exc)
    except Exception as exc:
        logger.exception(
            "task %s (job %s) of type %s crashed", ctx.task_id, ctx.job_id, ctx.task_type
        )
        return outcome_from_exception(exc)
    finally:
        unbind_context(token)
    outcome = outcome_from_value(value)
    if outcome.error is not None and outcome.error.code == INVALID_RESULT:
        # Else only the job's history says why a handler that "worked" reported a failure.
        logger.warning(
            "task %s (job %s) of type %s: %s; reported as failure %s",
            ctx.task_id,
            ctx.job_id,
            ctx.task_type,
            outcome.error.message,
            INVALID_RESULT,
        )
    return outcome


def _is_async(func: HandlerFunc) -> bool:
    if inspect.iscoroutinefunction(func):
        return True
    # Callable objects whose __call__ is async are async handlers too.
    return inspect.iscoroutinefunction(type(func).__call__)
