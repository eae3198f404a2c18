"""The public ``Worker``: register handlers, then run them for the orchestrator."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType, TracebackType
from typing import Any, TypeVar

from .config import WorkerSettings
from .handlers import TaskHandler, make_handler
from .runtime import WorkerRuntime

__all__ = ["Worker"]

logger = logging.getLogger("worker_sdk")

F = TypeVar("F", bound=Callable[..., Any])


class Worker:
    """Runs task handlers for the orchestrator.

    Example::

        worker = Worker(url="http://orchestrator:8080", token="...")

        @worker.task("send_email")
        async def send_email(params: dict, ctx: TaskContext) -> dict:
            ...
            return {"sent_to": params["to"]}

        asyncio.run(worker.run())  # or: python -m worker_sdk run my_module:worker

    Explicit keyword arguments override the matching fields of ``settings``.

    Args:
        settings: Connection and capacity settings; ``WorkerSettings()`` if omitted. The
            environment is only read by the CLI or by ``WorkerSettings.from_env``.
        url: Orchestrator base URL.
        token: Worker token.
        worker_id: Unique id of this worker.
        capacity: How many tasks run at once.
        poll_timeout_s: Longest wait of one long-poll.
        tags: Tags a task's ``requires`` may ask for (every listed tag must be here).
        labels: ``key: value`` labels a task's ``requires`` may ask for (each equal).
        shutdown_grace_s: How long a stopping worker lets running tasks finish.
        handle_signals: Stop gracefully on SIGTERM/SIGINT (a second signal cancels running
            tasks). Leave it off when the worker runs inside another framework that owns the
            signals; the CLI turns it on.
    """

    def __init__(
        self,
        settings: WorkerSettings | None = None,
        *,
        url: str | None = None,
        token: str | None = None,
        worker_id: str | None = None,
        capacity: int | None = None,
        poll_timeout_s: float | None = None,
        tags: Iterable[str] | None = None,
        labels: Mapping[str, str] | None = None,
        shutdown_grace_s: float | None = None,
        handle_signals: bool = False,
    ) -> None:
        overrides: dict[str, Any] = {
            "url": url,
            "token": token,
            "worker_id": worker_id,
            "capacity": capacity,
            "poll_timeout_s": poll_timeout_s,
            "tags": tuple(tags) if tags is not None else None,
            "labels": dict(labels) if labels is not None else None,
            "shutdown_grace_s": shutdown_grace_s,
        }
        base = settings if settings is not None else WorkerSettings()
        self._settings = replace(base, **{k: v for k, v in overrides.items() if v is not None})
        self.handle_signals = handle_signals
        self._handlers: dict[str, TaskHandler] = {}
        self._runtime: WorkerRuntime | None = None

    @property
    def settings(self) -> WorkerSettings:
        """The settings the next run uses; replaceable while the worker is not running."""
        return self._settings

    @settings.setter
    def settings(self, value: WorkerSettings) -> None:
        self._ensure_idle("change settings")
        self._settings = value

    @property
    def task_types(self) -> tuple[str, ...]:
        """The task types this worker handles (its skills), sorted."""
        return tuple(sorted(self._handlers))

    @property
    def handlers(self) -> Mapping[str, TaskHandler]:
        """Registered handlers by task type (read-only)."""
        return MappingProxyType(self._handlers)

    @property
    def is_running(self) -> bool:
        """Whether a run is in progress (from start to the end of shutdown)."""
        return self._runtime is not None

    @property
    def running_task_ids(self) -> list[str]:
        """Ids of the tasks running now."""
        return self._runtime.running_task_ids if self._runtime else []

    def task(self, task_type: str) -> Callable[[F], F]:
        """Register the decorated function as the handler of ``task_type``.

        The handler is ``async def handler(params, ctx)`` (or ``handler(params)`` when it takes
        one positional parameter). A plain ``def`` runs in a thread; a thread cannot be
        interrupted, so a long sync handler should check ``ctx.is_cancelled`` between steps.
        The handler returns a dict or ``None`` (status ``"success"``) or a
        :class:`~worker_sdk.TaskResult`, or raises :class:`~worker_sdk.TaskError`. The
        function is returned unchanged, so it can still be called directly.

        Raises:
            ValueError: ``task_type`` is empty or already has a handler.
            TypeError: The function cannot be called as a handler.
        """
        if not isinstance(task_type, str) or not task_type:
            raise ValueError(f"task type must be a non-empty string, not {task_type!r}")

        def register(func: F) -> F:
            self._ensure_idle("register a handler")
            if task_type in self._handlers:
                existing = self._handlers[task_type].func
                name = getattr(existing, "__qualname__", repr(existing))
                raise ValueError(f"task type {task_type!r} already has a handler: {name}")
            self._handlers[task_type] = make_handler(task_type, func)
            return func

        return register

    async def run(self, *, handle_signals: bool | None = None) -> None:
        """Register, take tasks until :meth:`stop` (or a signal), then shut down gracefully.

        Shutdown stops polling, lets running tasks finish and submit their results for up to
        ``shutdown_grace_s``, cancels what is left, then closes the connections.

        Args:
            handle_signals: Overrides the ``handle_signals`` given to the constructor.

        Raises:
            AuthError: The orchestrator rejected the token.
            ValueError: No handler is registered.
        """
        runtime = self._begin()
        use_signals = self.handle_signals if handle_signals is None else handle_signals
        remove_signals = _install_signal_handlers(runtime, self._settings) if use_signals else None
        try:
            try:
                await runtime.start()
                await runtime.stop_requested.wait()
            except asyncio.CancelledError:
                # Cancelled from outside: no grace period, but still close cleanly.
                runtime.request_stop(force=True)
                raise
            finally:
                await runtime.shutdown(self._settings.shutdown_grace_s)
        finally:
            if remove_signals is not None:
                remove_signals()
            self._runtime = None

    def stop(self) -> None:
        """Ask a running worker to stop; :meth:`run` returns once shutdown is done.

        Safe to call from a signal handler or a task handler; does nothing when not running.
        """
        if self._runtime is not None:
            self._runtime.request_stop()

    async def shutdown(self) -> None:
        """Stop and wait until the worker has shut down (see :meth:`run`)."""
        if self._runtime is not None:
            await self._runtime.shutdown(self._settings.shutdown_grace_s)

    async def __aenter__(self) -> Worker:
        """Start the worker in the background: ``async with worker: ...``."""
        runtime = self._begin()
        try:
            await runtime.start()
        except BaseException:
            self._runtime = None
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        runtime = self._runtime
        if runtime is None:
            return
        try:
            await runtime.shutdown(self._settings.shutdown_grace_s)
        finally:
            self._runtime = None

    def _begin(self) -> WorkerRuntime:
        self._ensure_idle("start")
        if not self._handlers:
            raise ValueError("no task handler registered: decorate one with @worker.task(...)")
        self._runtime = WorkerRuntime(self._settings, self._handlers)
        return self._runtime

    def _ensure_idle(self, action: str) -> None:
        if self._runtime is not None:
            raise RuntimeError(f"cannot {action} while the worker is running")


def _install_signal_handlers(
    runtime: WorkerRuntime, settings: WorkerSettings
) -> Callable[[], None]:
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        if runtime.stop_requested.is_set():
            logger.warning("%s again: cancelling running tasks now", sig.name)
            runtime.request_stop(force=True)
        else:
            logger.info(
                "%s received: stopping; running tasks get %.0fs (send it again to cancel them)",
                sig.name,
                settings.shutdown_grace_s,
            )
            runtime.request_stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (NotImplementedError, RuntimeError):
            # Windows, or not the main thread: the caller has to call stop() itself.
            logger.debug("cannot handle %s here", sig.name)
        else:
            installed.append(sig)

    def remove() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return remove
