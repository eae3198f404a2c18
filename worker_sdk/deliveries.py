"""The tasks one worker is running, by delivery, and what to do with a task handed out again.

A delivery is ``(task id, attempt)``. The same task id comes back with a higher attempt when the
orchestrator lost the earlier attempt's lease, possibly to this very worker while that attempt
still runs or still sends its result here. Every delivery leased to the worker is either run or
declined: a lease that no handler answers would be kept alive by heartbeats and stall its job.

A cancel names its attempt, and stops that attempt only: a late cancel of an attempt that timed
out must not stop the next attempt running here. A cancel that comes before its delivery (the
WebSocket can beat the long-poll's answer) is remembered for ``EARLY_CANCEL_MEMORY_S``, and the
delivery, when it comes, is declined rather than run to its end for nothing.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from .client import OrchestratorClient
from .context import TaskContext
from .errors import AuthError

__all__ = ["Admission", "Declines", "Running", "RunningTasks"]

logger = logging.getLogger("worker_sdk")

Delivery = tuple[str, int]

EARLY_CANCEL_MEMORY_S = 30.0
"""How long a cancel for a delivery not running here is remembered. The delivery it races is
an answer already on the wire, so seconds are plenty; an attempt the orchestrator cancelled is
never its current attempt again, so remembering it longer would be harmless too."""


class Admission(enum.Enum):
    """What the worker does with a delivery it was handed."""

    RUN = "run"
    """Start its handler."""
    ANSWERED = "answered"
    """A copy of this very attempt runs here already: its result answers the delivery."""
    DECLINE = "decline"
    """Give it back: it cannot run here now."""
    CANCELLED = "cancelled"
    """Give it back: the orchestrator cancelled it before it started here."""


@dataclass(frozen=True)
class Running:
    """One delivery running here: its context and the asyncio task running its handler."""

    ctx: TaskContext
    task: asyncio.Task[None]


class RunningTasks:
    """The deliveries running in one worker, including those still sending their result."""

    def __init__(self) -> None:
        self._by_delivery: dict[Delivery, Running] = {}
        self._early: dict[tuple[str, int | None], float] = {}
        """Cancels of deliveries not running here, by (task id, attempt or None for any), with
        the monotonic time they are forgotten."""

    def __len__(self) -> int:
        return len(self._by_delivery)

    def values(self) -> list[Running]:
        return list(self._by_delivery.values())

    def task_ids(self) -> list[str]:
        """Each running task's id once, however many of its attempts run."""
        return list(dict.fromkeys(task_id for task_id, _ in self._by_delivery))

    def cancel(self, job_id: str, task_id: str, attempt: int | None = None) -> bool:
        """Cancel ``attempt`` of ``task_id`` (every attempt when None, as older orchestrators
        ask) if it runs here; False if it does not, and then remember the cancel for a while.

        Only the named attempt stops: the cancel of an attempt that timed out can arrive late,
        in a heartbeat answer, when the task's next attempt runs here and must go on.
        """
        copies = [
            r
            for (tid, att), r in self._by_delivery.items()
            if tid == task_id and attempt in (None, att)
        ]
        if not copies:
            # Its delivery may still be on its way (a WebSocket can beat the poll's answer):
            # remember the cancel so that the delivery is declined, not run to its end.
            self._forget_old_cancels()
            self._early[(task_id, attempt)] = time.monotonic() + EARLY_CANCEL_MEMORY_S
            logger.debug(
                "cancel for task %s (job %s, attempt %s), which is not running here; "
                "remembered in case its delivery is still on its way",
                task_id,
                job_id,
                "any" if attempt is None else attempt,
            )
            return False
        for running in copies:
            if not running.ctx.is_cancelled:
                logger.info(
                    "cancelling task %s (job %s, attempt %d) at the orchestrator's request",
                    task_id,
                    job_id,
                    running.ctx.attempt,
                )
                running.ctx.cancelled.set()
                running.task.cancel()
        return True

    def _forget_old_cancels(self) -> None:
        now = time.monotonic()
        for key in [k for k, until in self._early.items() if until <= now]:
            del self._early[key]

    def _cancelled_early(self, task_id: str, attempt: int) -> bool:
        self._forget_old_cancels()
        return (task_id, attempt) in self._early or (task_id, None) in self._early

    def add(self, running: Running) -> None:
        self._by_delivery[(running.ctx.task_id, running.ctx.attempt)] = running

    def remove(self, ctx: TaskContext) -> None:
        self._by_delivery.pop((ctx.task_id, ctx.attempt), None)

    def admit(self, task_id: str, attempt: int) -> Admission:
        """Decide on a delivery of ``task_id`` / ``attempt``, logging why when it is unusual."""
        same = self._by_delivery.get((task_id, attempt))
        if same is not None and not same.ctx.is_cancelled:
            # The orchestrator handed this very attempt out again (as after a lost write):
            # the copy running here holds it, and its result answers this delivery too.
            logger.info(
                "task %s attempt %d handed out again while it runs here; the running copy "
                "answers it",
                task_id,
                attempt,
            )
            return Admission.ANSWERED
        if same is not None:
            # A cancelled copy sends no result, and one delivery cannot run twice at once here.
            logger.warning(
                "task %s attempt %d handed out again while its cancelled copy unwinds; "
                "declining it",
                task_id,
                attempt,
            )
            return Admission.DECLINE
        if self._cancelled_early(task_id, attempt):
            # Declined, not reported: a result would spend an attempt, while a decline of an
            # attempt the orchestrator still leases here hands it on at once, and one it has
            # dropped already is refused (409) without changing anything.
            logger.info(
                "task %s attempt %d was cancelled before it started here; declining it",
                task_id,
                attempt,
            )
            return Admission.CANCELLED
        older = sorted(att for tid, att in self._by_delivery if tid == task_id)
        if older:
            # The orchestrator lost those attempts' leases and waits for this one now: run it.
            # The older copies go on, as on any worker after a lost lease; their results name
            # their own attempt, so the orchestrator refuses them instead of taking them for
            # this attempt's.
            logger.warning(
                "task %s attempt %d handed out while attempt(s) %s still finish here; "
                "running it (their results will be refused as stale)",
                task_id,
                attempt,
                ", ".join(map(str, older)),
            )
        return Admission.RUN


class Declines:
    """Declines sent in the background, so the poll loop never waits on one."""

    def __init__(
        self, client: OrchestratorClient, on_auth_error: Callable[[AuthError], None]
    ) -> None:
        self._client = client
        self._on_auth_error = on_auth_error
        self._sending: set[asyncio.Task[None]] = set()

    def send(self, job_id: str, task_id: str, attempt: int, reason: str) -> None:
        """Tell the orchestrator to hand this delivery to someone else, now."""
        task = asyncio.create_task(
            self._send(job_id, task_id, attempt, reason),
            name=f"worker_sdk.decline.{task_id}.{attempt}",
        )
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def settle(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for the declines in flight; cancel the rest."""
        if not self._sending:
            return
        _, unsent = await asyncio.wait(list(self._sending), timeout=timeout_s)
        for task in unsent:
            task.cancel()
        if unsent:
            logger.warning("%d decline(s) not delivered; their leases will expire", len(unsent))

    async def _send(self, job_id: str, task_id: str, attempt: int, reason: str) -> None:
        try:
            if await self._client.decline_task(job_id, task_id, attempt, reason):
                logger.info("task %s attempt %d declined: %s", task_id, attempt, reason)
        except AuthError as exc:
            self._on_auth_error(exc)
