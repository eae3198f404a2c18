"""The end of a worker run: wait for running tasks, then hand back the ones the grace cuts.

A task still running when the grace period ends is cancelled and *declined*, not reported as
failed: the orchestrator queues it again at once, same attempt, and another worker takes it
now rather than when its lease runs out, without spending one of its attempts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from typing import Any

from .client import TRANSPORT_ERRORS
from .deliveries import Declines, Running, RunningTasks
from .errors import ApiError

__all__ = ["CANCEL_WAIT_S", "hand_back", "stop_polling", "tell", "wait_for_running"]

logger = logging.getLogger("worker_sdk")

CANCEL_WAIT_S = 5.0
"""After the grace period: how long cancelled tasks get to unwind before they are declined."""
HAND_BACK_REASON = "the worker stopped (drained or shut down) before the task finished"
TELL_TIMEOUT_S = 5.0
ANNOUNCE_TIMEOUT_S = 1.0
POLL_SETTLE_S = 0.2
"""How long a stopping worker lets its long-poll end on its own before abandoning it: room
for an answer already on the wire (a round trip, and the event loop getting to it), paid by
every stop with a poll parked."""


async def tell(what: str, call: Awaitable[None], timeout_s: float = TELL_TIMEOUT_S) -> None:
    """Best effort: a stopping worker does not wait long on an orchestrator that is away."""
    try:
        async with asyncio.timeout(timeout_s):
            await call
    except (ApiError, *TRANSPORT_ERRORS) as exc:
        logger.warning("could not %s: %s: %s", what, type(exc).__name__, exc)


async def stop_polling(
    poll: asyncio.Task[None], announce: Coroutine[Any, Any, None] | None
) -> None:
    """End the poll loop without dropping a task already on its way to this worker.

    Abandoning a long-poll at once loses a task whose answer is on the wire: the orchestrator
    leased it to this worker, which never sees it, until the lease runs out. Once the
    orchestrator knows the worker drains, it hands the parked poll nothing more (it gives the
    task back and answers 409); an answer sent before that arrives within ``POLL_SETTLE_S``,
    and its task runs like the others, within the grace period.
    """
    if announce is not None:
        await tell("announce the drain", announce, ANNOUNCE_TIMEOUT_S)
    await asyncio.wait([poll], timeout=POLL_SETTLE_S)  # how the poll ends is its own affair
    poll.cancel()


async def wait_for_running(running: RunningTasks, force: asyncio.Event, grace_s: float) -> None:
    """Return when every running task ended, ``grace_s`` passed, or ``force`` was set."""
    if running:
        logger.info("waiting up to %.1fs for %d running task(s)", grace_s, len(running))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_s
    forced = asyncio.create_task(force.wait())
    try:
        while running and not forced.done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            pending = [r.task for r in running.values()]
            await asyncio.wait(
                [*pending, forced], timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
    finally:
        forced.cancel()


async def hand_back(cut: list[Running], declines: Declines) -> None:
    """Cancel the tasks still running after the grace period, then decline each one.

    A handler that ends with a result anyway (it swallowed the cancel) has sent that result;
    one cancelled by the orchestrator meanwhile is not the worker's to give back.
    """
    logger.warning(
        "grace period over: cancelling %d running task(s) and handing them back", len(cut)
    )
    for running in cut:
        running.task.cancel()
    _, stuck = await asyncio.wait([r.task for r in cut], timeout=CANCEL_WAIT_S)
    if stuck:
        logger.error("%d task(s) ignored cancellation; handing them back anyway", len(stuck))
    for r in cut:
        if r.ctx.is_cancelled or (r.task.done() and not r.task.cancelled()):
            continue
        declines.send(r.ctx.job_id, r.ctx.task_id, r.ctx.attempt, HAND_BACK_REASON)
