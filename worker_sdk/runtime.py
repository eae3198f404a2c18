"""One run of a worker: registration, the heartbeat, command and poll loops, and running tasks.

A :class:`WorkerRuntime` lives from ``Worker.run()`` (or ``async with worker``) to the end of
its shutdown; the public :class:`~worker_sdk.Worker` creates a fresh one for every run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

from .backoff import RECONNECT_BACKOFF
from .client import (
    TRANSPORT_ERRORS,
    OrchestratorClient,
    Registration,
    TaskAssignment,
    UnreadableTask,
)
from .commands import CommandChannel
from .config import WorkerSettings, redact_url
from .context import TaskContext
from .deliveries import Admission, Declines, Running, RunningTasks
from .errors import ApiError, AuthError, WorkerDraining, WorkerNotRegistered
from .handlers import TaskHandler, invoke
from .progress import ProgressReporter
from .registering import register, register_until_done
from .results import ErrorInfo, TaskOutcome
from .stopping import hand_back, stop_polling, tell, wait_for_running

__all__ = ["WorkerRuntime"]

logger = logging.getLogger("worker_sdk")

# After the grace period: how long the declines of cut tasks, and the goodbye, may take.
REPORT_CUT_TIMEOUT_S = 5.0
_DECLINE_REASONS = {
    Admission.DECLINE: "a cancelled copy of this attempt still unwinds on this worker",
    Admission.CANCELLED: "the orchestrator cancelled this attempt before it started here",
}


class WorkerRuntime:
    """The moving parts of one worker run. Not part of the public API: use ``Worker``."""

    def __init__(self, settings: WorkerSettings, handlers: Mapping[str, TaskHandler]) -> None:
        self._settings = settings
        self._handlers = dict(handlers)
        self._client = OrchestratorClient(settings)
        self._channel = CommandChannel(settings, self.cancel_task, on_drain=self.drain)
        self._slots = asyncio.Semaphore(settings.capacity)
        self._running = RunningTasks()
        self._passed_on: set[int] = set()
        """``id`` of the finishing tasks whose slot a task their result brought took."""
        self._declines = Declines(self._client, self._fail)
        self._loops: list[asyncio.Task[None]] = []
        self._poll_task: asyncio.Task[None] | None = None
        self._registration = Registration(10.0, 30.0, settings.poll_timeout_s)
        self._poll_failures = 0
        self._registered = False
        self.stop_requested = asyncio.Event()
        """Set once a stop was asked for (``stop()``, a signal, a drain, or a fatal error)."""
        self.drained = False
        """Whether the orchestrator asked this worker to drain."""
        self._force = asyncio.Event()
        self._fatal: BaseException | None = None
        self._shutdown_task: asyncio.Task[None] | None = None
        self._stopping: asyncio.Task[None] | None = None

    @property
    def running_task_ids(self) -> list[str]:
        """Ids of the tasks running now, including those still submitting their result."""
        return self._running.task_ids()

    async def start(self) -> None:
        """Register (retrying while the orchestrator is unreachable) and start the loops."""
        await self._client.open()
        try:
            if not await self._register_until_done():
                return
            self._registered = True
        except BaseException as exc:
            if isinstance(exc, AuthError):
                logger.error("%s", exc.at_registration(redact_url(self._settings.url)))
            await self._client.close()
            raise
        self._spawn("heartbeat", self._heartbeat_loop())
        self._spawn("commands", self._channel.run())
        self._poll_task = self._spawn("poll", self._poll_loop())

    def request_stop(self, *, force: bool = False) -> None:
        """Stop taking tasks; with ``force``, also cut the grace period short."""
        if not self.stop_requested.is_set():
            self.stop_requested.set()
            if self._poll_task is not None:
                # Stopping on its own (a signal, stop()): show as draining, as a drained one does.
                own = self._registered and not self.drained and self._fatal is None
                announce = self._client.announce_draining() if own else None
                self._stopping = asyncio.create_task(stop_polling(self._poll_task, announce))
        if force:
            self._force.set()
            if self._poll_task is not None:
                self._poll_task.cancel()

    async def shutdown(self, grace_s: float) -> None:
        """Stop and wait until every part is closed; safe to call more than once.

        Raises:
            BaseException: The fatal error that stopped the worker, if any (e.g. ``AuthError``).
        """
        self.request_stop()
        if self._shutdown_task is None:
            self._shutdown_task = asyncio.create_task(self._shutdown(grace_s))
        await asyncio.shield(self._shutdown_task)
        if self._fatal is not None:
            raise self._fatal

    def drain(self) -> None:
        """Stop at the orchestrator's request (an operator drained this worker): as on SIGTERM,
        running tasks get the grace period, then the worker deregisters and ``run()`` returns.

        It may come three ways (WebSocket, heartbeat answer, refused long-poll): once counts.
        """
        if self.drained:
            return
        self.drained = True
        if self.stop_requested.is_set():
            return  # stopping already (a signal): this is its own announcement coming back
        logger.info(
            "worker %s drained by the orchestrator: taking no new tasks; running tasks get %.0fs",
            self._settings.worker_id,
            self._settings.shutdown_grace_s,
        )
        self.request_stop()

    def cancel_task(self, job_id: str, task_id: str, attempt: int | None = None) -> bool:
        """Cancel a running task at the orchestrator's request; no result will be sent.

        Only the named attempt stops (every attempt when the cancel names none). A cancel for
        a delivery not running here is remembered a while, and that delivery declined.
        """
        return self._running.cancel(job_id, task_id, attempt)

    # -- registration and heartbeats --------------------------------------------------------

    async def _register_until_done(self) -> bool:
        skills, stop = sorted(self._handlers), self.stop_requested
        found = await register_until_done(self._client, self._settings, skills, stop)
        if found is not None:
            self._registration = found
        return found is not None

    async def _register(self) -> None:
        self._registration = await register(self._client, self._settings, sorted(self._handlers))

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self._registration.heartbeat_interval_s)
            await self._heartbeat()

    async def _heartbeat(self) -> None:
        try:
            # The load counts handlers, so two attempts of one task running here count twice.
            beat = await self._client.heartbeat(len(self._running), self.running_task_ids)
        except WorkerNotRegistered:
            logger.warning(
                "the orchestrator forgot worker %s; registering again", self._settings.worker_id
            )
            await self._reregister()
            return
        except AuthError:
            raise
        except (ApiError, *TRANSPORT_ERRORS) as exc:
            logger.warning("heartbeat failed: %s: %s", type(exc).__name__, exc)
            return
        for item in beat.cancelled:
            self.cancel_task(item.job_id, item.task_id, item.attempt)
        if beat.draining:
            self.drain()

    async def _reregister(self) -> None:
        try:
            await self._register()
        except AuthError:
            raise
        except (ApiError, *TRANSPORT_ERRORS) as exc:
            # The next heartbeat or poll meets WORKER_NOT_REGISTERED again and retries.
            logger.warning("registering again failed: %s: %s", type(exc).__name__, exc)

    # -- polling and running tasks ----------------------------------------------------------

    async def _poll_loop(self) -> None:
        delays = RECONNECT_BACKOFF.delays()
        while True:
            # Only ask for tasks when a slot is free to run them, and for as many as are free.
            await self._slots.acquire()
            free = 1
            while not self._slots.locked():
                await self._slots.acquire()  # free now: no wait
                free += 1
            handed_over = 0
            try:
                if self.stop_requested.is_set():
                    return
                assignments, healthy = await self._poll(free)
                for assignment in assignments:
                    handed_over += self._start_task(assignment)
            finally:
                for _ in range(free - handed_over):
                    self._slots.release()
            if handed_over:
                # Let the handlers start before the next poll is built (an HTTP request: a
                # few hundred microseconds a lone task would otherwise wait for).
                await asyncio.sleep(0)
            if healthy:
                delays = RECONNECT_BACKOFF.delays()
            else:
                await asyncio.sleep(next(delays))

    async def _poll(self, free: int) -> tuple[list[TaskAssignment], bool]:
        """One long-poll for up to ``free`` tasks, and whether the orchestrator answered well."""
        timeout = min(self._settings.poll_timeout_s, self._registration.poll_timeout_s)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            answer = await self._client.next_tasks(timeout, free)
        except WorkerNotRegistered:
            logger.warning(
                "the orchestrator forgot worker %s; registering again", self._settings.worker_id
            )
            await self._reregister()
            return [], False
        except AuthError:
            raise
        except WorkerDraining:
            self.drain()
            return [], True
        except (ApiError, ValueError, *TRANSPORT_ERRORS) as exc:
            self._poll_failures += 1
            log = logger.warning if self._poll_failures == 1 else logger.debug
            log("polling for tasks failed (%s: %s); retrying", type(exc).__name__, exc)
            return [], False
        if self._poll_failures:
            logger.info("polling for tasks works again after %d failure(s)", self._poll_failures)
            self._poll_failures = 0
        assignments = [a for a in answer if isinstance(a, TaskAssignment)]
        unreadable = [a for a in answer if isinstance(a, UnreadableTask)]
        for bad in unreadable:
            self._decline_unreadable(bad)
        # An empty answer long before the wait ends means the orchestrator is shutting down:
        # back off instead of hammering it. So does an unreadable task: the declined task may
        # well come straight back to this worker.
        early = not answer and loop.time() - started < timeout / 2
        return assignments, not early and not unreadable

    def _decline_unreadable(self, bad: UnreadableTask) -> None:
        # The orchestrator leased it to this worker: give it back rather than hold a lease
        # that heartbeats would keep alive and nobody would run.
        logger.error("the orchestrator sent a task this worker cannot read: %s", bad)
        if bad.delivery is not None:
            job_id, task_id, attempt = bad.delivery
            self._declines.send(job_id, task_id, attempt, f"unreadable task: {bad}")

    def _start_task(self, assignment: TaskAssignment) -> bool:
        """Start the handler of a delivery; False when it takes no slot (see ``admit``)."""
        admission = self._running.admit(assignment.task_id, assignment.attempt)
        reason = _DECLINE_REASONS.get(admission)
        if reason is not None:
            self._declines.send(assignment.job_id, assignment.task_id, assignment.attempt, reason)
        if admission is not Admission.RUN:
            return False
        ctx = TaskContext(
            job_id=assignment.job_id,
            task_id=assignment.task_id,
            task_type=assignment.task_type,
            attempt=assignment.attempt,
            max_attempts=assignment.max_attempts,
            worker_id=self._settings.worker_id,
            params=assignment.params,
            timeout_s=assignment.timeout_s,
            reporter=ProgressReporter.of_attempt(self._client, assignment, self._settings),
        )
        logger.info(
            "task %s (job %s, %s, attempt %d/%d) started",
            ctx.task_id,
            ctx.job_id,
            ctx.task_type,
            ctx.attempt,
            ctx.max_attempts,
        )
        name = f"worker_sdk.task.{ctx.task_id}.{ctx.attempt}"
        task = asyncio.create_task(self._execute(ctx), name=name)
        task.add_done_callback(lambda _: self._finished(ctx))
        self._running.add(Running(ctx, task))
        return True

    def _finished(self, ctx: TaskContext) -> None:
        """Free the delivery's slot however its task ended, even cancelled before it ran."""
        if ctx.reporter is not None:
            ctx.reporter.close()
        self._running.remove(ctx)
        if id(ctx) in self._passed_on:  # a task its result's answer brought took its slot
            self._passed_on.discard(id(ctx))
        else:
            self._slots.release()

    async def _execute(self, ctx: TaskContext) -> None:
        try:
            handler = self._handlers.get(ctx.task_type)
            if handler is None:
                message = f"worker {ctx.worker_id} has no handler for {ctx.task_type!r}"
                error = ErrorInfo("UNKNOWN_TASK_TYPE", message, retryable=False)
                outcome = TaskOutcome(status="failure", error=error)
            else:
                outcome = await invoke(handler, ctx.params, ctx)
            if ctx.is_cancelled:
                # The orchestrator ended the job already; a result would only be refused.
                logger.info("task %s was cancelled; its result is not sent", ctx.task_id)
                return
            await self._submit(ctx, outcome)
        except asyncio.CancelledError:
            if ctx.is_cancelled:
                logger.info("task %s cancelled by the orchestrator", ctx.task_id)
            raise
        except AuthError as exc:
            self._fail(exc)
        except Exception:
            logger.exception("unexpected error while running task %s", ctx.task_id)

    async def _submit(self, ctx: TaskContext, outcome: TaskOutcome) -> None:
        body = outcome.to_wire(
            job_id=ctx.job_id, task_id=ctx.task_id, worker_id=ctx.worker_id, attempt=ctx.attempt
        )
        # The slot this task frees goes to the next task, should the answer bring one: the
        # worker is spared a poll (``CommandChannel.send_result``).
        handed: list[TaskAssignment | UnreadableTask] = []
        want = 0 if self.stop_requested.is_set() else 1
        answer = await self._client.submit_result(body, self._channel, want=want, handed=handed)
        if answer is not None:
            logger.info("task %s finished with %r: %s", ctx.task_id, outcome.status, answer)
        for task in handed:
            if isinstance(task, UnreadableTask):
                self._decline_unreadable(task)
            elif self.stop_requested.is_set() or id(ctx) in self._passed_on:
                self._declines.send(task.job_id, task.task_id, task.attempt, "worker stopping")
            elif self._start_task(task):
                self._passed_on.add(id(ctx))

    # -- supervision and shutdown -----------------------------------------------------------

    def _spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=f"worker_sdk.{name}")
        task.add_done_callback(self._loop_done)
        self._loops.append(task)
        return task

    def _loop_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        if not isinstance(exc, AuthError):
            logger.error("worker loop %s crashed; stopping", task.get_name(), exc_info=exc)
        self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        if self._fatal is None:
            self._fatal = exc
            if isinstance(exc, AuthError):
                logger.error("the orchestrator rejected the worker token (%s); stopping", exc)
        self.request_stop()

    async def _shutdown(self, grace_s: float) -> None:
        # The poll ends first (stop_polling), and with it the announcement of the drain.
        ended = [t for t in (self._stopping, self._poll_task) if t is not None]
        await asyncio.gather(*ended, return_exceptions=True)
        # Heartbeats and the command channel keep going while tasks drain: leases stay alive
        # and cancels still arrive.
        await wait_for_running(self._running, self._force, grace_s)
        if self._running:
            await hand_back(self._running.values(), self._declines)
        # Declines let the orchestrator hand tasks on now; give them a moment to land.
        await self._declines.settle(REPORT_CUT_TIMEOUT_S)
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        if self._registered and not isinstance(self._fatal, AuthError):
            # After the heartbeats stopped: one more would register the worker again.
            await tell("deregister", self._client.deregister())
        await self._client.close()
        logger.info("worker %s stopped", self._settings.worker_id)
