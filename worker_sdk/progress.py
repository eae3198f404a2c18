"""``ctx.progress(...)``: reports of how far a task got, limited to a few a second per task.

A handler may call ``ctx.progress`` in a tight loop; the reporter sends at once when the last
report went out at least ``interval_s`` ago, and otherwise keeps only the newest report and
sends it when the interval ends, so the orchestrator always ends up with the latest one while
seeing at most ``1 / interval_s`` reports a second. Reports are best effort: a failed send is
logged and not retried, as the next report supersedes it.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .protocol import TaskProgress, wire

if TYPE_CHECKING:  # client imports context, which imports this module
    from .client import OrchestratorClient, TaskAssignment
    from .config import WorkerSettings

__all__ = ["ProgressReporter", "progress_body"]

logger = logging.getLogger("worker_sdk")

INTERVAL_S = 0.5
"""Shortest time between two reports of one task (the orchestrator drops closer ones)."""

Send = Callable[[dict[str, Any]], Awaitable[object]]


def progress_body(
    fraction: float | None, message: str | None, data: dict[str, Any] | None
) -> dict[str, Any]:
    """The report's own fields, checked where the handler calls ``ctx.progress``."""
    if fraction is not None and (
        isinstance(fraction, bool)
        or not isinstance(fraction, int | float)
        or not math.isfinite(fraction)
        or not 0 <= fraction <= 1
    ):
        raise ValueError(f"progress fraction must be a number from 0 to 1, not {fraction!r}")
    if message is not None and not isinstance(message, str):
        raise ValueError(f"progress message must be a string, not {type(message).__name__}")
    if data is not None and not isinstance(data, dict):
        raise ValueError(f"progress data must be a dict, not {type(data).__name__}")
    return {"fraction": fraction, "message": message, "data": data}


class ProgressReporter:
    """Sends one task attempt's reports through ``send``, at most one per ``interval_s``."""

    def __init__(self, send: Send, interval_s: float = INTERVAL_S) -> None:
        self._send = send
        self._interval_s = interval_s
        self._last_sent = -math.inf
        self._pending: dict[str, Any] | None = None
        self._trailing: asyncio.Task[None] | None = None

    async def report(self, body: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        wait = self._last_sent + self._interval_s - loop.time()
        if wait <= 0 and self._trailing is None:
            await self._deliver(body)
            return
        self._pending = body  # the newest wins: the orchestrator wants where the task is now
        if self._trailing is None:
            self._trailing = loop.create_task(self._send_later(max(0.0, wait)))

    async def _send_later(self, wait: float) -> None:
        await asyncio.sleep(wait)
        body, self._pending = self._pending, None
        self._trailing = None
        if body is not None:
            await self._deliver(body)

    async def _deliver(self, body: dict[str, Any]) -> None:
        self._last_sent = asyncio.get_running_loop().time()
        try:
            await self._send(body)
        except (TimeoutError, ApiError, OSError) as exc:
            logger.debug("a progress report was not delivered (%s); the next one replaces it", exc)
        except Exception as exc:  # aiohttp's errors; progress must never fail the task
            logger.debug("a progress report was not delivered (%r)", exc)

    @classmethod
    def of_attempt(
        cls, client: OrchestratorClient, assignment: TaskAssignment, settings: WorkerSettings
    ) -> ProgressReporter:
        """A reporter whose reports name the attempt: one of an attempt that is over is
        refused, never shown as the next attempt's progress."""

        def send(body: dict[str, Any]) -> Awaitable[None]:
            report = TaskProgress(
                job_id=assignment.job_id,
                task_id=assignment.task_id,
                worker_id=settings.worker_id,
                attempt=assignment.attempt,
                fraction=body["fraction"],
                message=body["message"],
                data=body["data"],
            )
            return client.report_progress(wire(report))

        return cls(send)

    def close(self) -> None:
        """The attempt ended: a report still waiting would only be refused."""
        if self._trailing is not None:
            self._trailing.cancel()
            self._trailing = None
        self._pending = None
