"""``JobRunner``: the I/O shell around the engine.

Every operation is: load the job, let the engine decide (running handlers when the job enters a
state), store the result in one guarded step. When another process changed the job meanwhile
the guard fails and the operation starts over from a fresh read, so a job never moves twice.
Handlers may therefore run more than once for one transition: they decide, they do not act.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.config import Settings
from orchestrator.engine import machine
from orchestrator.engine.actions import ActionError, Actions, Fail, Finish, GoTo
from orchestrator.engine.effects import Effects
from orchestrator.engine.inject import MissingArgument, handler_kwargs
from orchestrator.engine.model import JSON, Job, JobStatus, TaskStatus
from orchestrator.errors import Conflict, NotFound, Unavailable
from orchestrator.storage.redis_store import RedisStore

log = logging.getLogger("orchestrator.runner")

MAX_HOPS = 100
"""go_to steps within one transition before the job is failed as a loop."""
MAX_CONFLICTS = 20

Observer = Callable[[Job, Job, Effects], None]
"""Called with (before, after, effects) after each stored transition; must not block."""


@dataclass(frozen=True)
class NewJob:
    initial_data: JSON
    webhook_url: str | None = None
    dispatch_timeout_s: float | None = None
    result_timeout_s: float | None = None


class JobRunner:
    def __init__(
        self,
        store: RedisStore,
        registry: BlueprintRegistry,
        settings: Settings,
        *,
        origin: str,
        wake: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.settings = settings
        self.origin = origin
        self._wake = wake
        self.observers: list[Observer] = []

    # -- clients --------------------------------------------------------------------------

    async def create(self, bp: Blueprint, client: str, new: NewJob) -> Job:
        now = time.time()
        job = Job(
            id=str(uuid.uuid4()),
            blueprint=bp.name,
            blueprint_version=bp.version,
            client=client,
            status=JobStatus.PENDING,
            state=bp.start_state,
            created_at=now,
            updated_at=now,
            initial_data=new.initial_data,
            webhook_url=new.webhook_url,
            dispatch_timeout_s=new.dispatch_timeout_s,
            result_timeout_s=new.result_timeout_s,
        )
        started, effects = machine.start(job, now)
        advanced, more = await self._advance(bp, started, now)
        effects.merge(more)
        written, _ = await self._commit(job, advanced, effects, index=True)
        if not written:  # a fresh uuid4 cannot exist already
            raise Unavailable("could not store the new job", code="STORAGE_CONFLICT")
        return advanced.evolve(rev=1)

    async def get(self, job_id: str, client: str) -> Job:
        job = await self.store.load(job_id)
        if job is None or job.client != client:
            raise NotFound(f"no job {job_id}", code="JOB_NOT_FOUND")
        return job

    async def cancel(self, job_id: str, client: str) -> str:
        for _ in range(MAX_CONFLICTS):
            job = await self.get(job_id, client)
            if job.terminal:
                raise Conflict(
                    f"job {job_id} is already {job.status.value}",
                    code="JOB_ALREADY_TERMINAL",
                    details={"status": job.status.value},
                )
            cancelled, effects = machine.cancel(job, time.time())
            written, reached = await self._commit(job, cancelled, effects)
            if written:
                if reached:
                    return "cancellation_request_sent"
                return "cancellation_request_accepted"
        raise _contention(job_id)

    # -- workers --------------------------------------------------------------------------

    async def claim(self, task_type: str, worker_id: str) -> bytes | None:
        return await self.store.claim(task_type, worker_id, self.settings.lease_s)

    async def submit_result(self, worker_id: str, body: JSON) -> str:
        job_id, task_id = body["job_id"], body["task_id"]
        for _ in range(MAX_CONFLICTS):
            job = await self.store.load(job_id)
            task = job.task if job else None
            held = (
                task is not None
                and task.task_id == task_id
                and task.status == TaskStatus.LEASED
                and task.worker == worker_id
                and body.get("attempt") in (None, task.attempt)
            )
            if job is None or not held:
                last = job.last_task if job else None
                if last and last["task_id"] == task_id and last["worker"] == worker_id:
                    return str(last["answer"])
                raise Conflict(
                    f"worker {worker_id} does not hold task {task_id}",
                    code="TASK_NOT_HELD",
                    details={"job_status": job.status.value if job else None},
                )
            now = time.time()
            bp = self._blueprint_of(job)
            if bp is None:
                moved, effects = self._blueprint_changed(job, now)
                answer = "result_ignored"
            else:
                out = machine.on_result(
                    job,
                    status=body["status"],
                    data=body.get("data"),
                    err=body.get("error"),
                    now=now,
                )
                moved, effects, answer = out.job, out.effects, out.answer
                if out.moved:
                    moved, more = await self._advance(bp, moved, now)
                    effects.merge(more)
            written, _ = await self._commit(job, moved, effects)
            if written:
                return answer
        raise _contention(job_id)

    # -- periodic duties ------------------------------------------------------------------

    async def expire_lease(self, task_type: str, ref: str) -> None:
        job_id, task_id, attempt, _ = ref.split("|")
        for _ in range(MAX_CONFLICTS):
            job = await self.store.load(job_id)
            task = job.task if job else None
            if (
                job is None
                or task is None
                or task.task_id != task_id
                or str(task.attempt) != attempt
            ):
                await self.store.drop_lease(task_type, ref)
                return
            now = time.time()
            if task.status == TaskStatus.QUEUED:
                # Popped from the queue but never leased (a process died in between): the job
                # still waits for this delivery, so its queue entry goes back.
                await self.store.restore_hint(task_type, ref, task.priority, self.origin)
                self._wake(task_type)
                return
            alive_until = await self._lease_alive_until(task.worker or "", task.leased_at or 0)
            if alive_until > now:
                await self.store.rearm_lease(task_type, ref, alive_until)
                return
            log.info("lease of %s expired (worker %s)", task.task_id, task.worker)
            expired, effects = machine.lease_expired(job, now)
            written, _ = await self._commit(job, expired, effects)
            if written:
                return
        raise _contention(job_id)

    async def _lease_alive_until(self, worker_id: str, leased_at: float) -> float:
        """When the lease runs out, counting the worker's heartbeats; 0 if it restarted."""
        (seen,) = await self.store.workers_seen([worker_id])
        info = await self.store.worker_info(worker_id)
        if seen is None or info is None or info.get("registered_at", 0) > leased_at:
            return 0.0
        return max(seen, leased_at) + self.settings.lease_s

    async def fire_timer(self, member: str) -> None:
        kind, job_id, task_id, attempt = member.split("|")
        for _ in range(MAX_CONFLICTS):
            job = await self.store.load(job_id)
            if job is None or job.terminal:
                break
            task = job.task
            if kind == "dispatch" and (
                task is None
                or task.task_id != task_id
                or str(task.attempt) != attempt
                or task.status != TaskStatus.QUEUED
            ):
                break
            failed, effects = machine.timed_out(job, kind, time.time())
            written, _ = await self._commit(job, failed, effects)
            if written:
                break
        await self.store.drop_timer(member)

    # -- internals ------------------------------------------------------------------------

    def _blueprint_of(self, job: Job) -> Blueprint | None:
        bp = self.registry.get(job.blueprint)
        if bp is None or bp.version != job.blueprint_version:
            return None
        return bp

    def _blueprint_changed(self, job: Job, now: float) -> tuple[Job, Effects]:
        bp = self.registry.get(job.blueprint)
        found = f"version {bp.version}" if bp else "no such blueprint"
        failed = machine.fail(
            job,
            "BLUEPRINT_CHANGED",
            f"job started on {job.blueprint} version {job.blueprint_version}; this "
            f"orchestrator has {found}",
            now,
        )
        return failed, Effects()

    async def _advance(self, bp: Blueprint, job: Job, now: float) -> tuple[Job, Effects]:
        """Run handlers from the job's state until one waits (task) or ends the job."""
        effects = Effects()
        names = frozenset(bp.states)
        for _ in range(MAX_HOPS):
            state = bp.states[job.state]
            actions = Actions()
            try:
                kwargs = handler_kwargs(state.name, state.params, job, actions)
                returned = await state.handler(**kwargs)
            except (ActionError, MissingArgument) as exc:
                code = exc.code if isinstance(exc, ActionError) else "HANDLER_ARGUMENT_MISSING"
                return machine.fail(job, code, str(exc), now), effects
            except Exception as exc:
                log.exception("handler of %s.%s failed (job %s)", bp.name, state.name, job.id)
                return machine.fail(job, "HANDLER_ERROR", f"{state.name}: {exc!r}", now), effects
            action = actions.chosen
            if action is None:
                if not state.end:
                    msg = f"handler of {state.name!r} chose no action and is not an end state"
                    return machine.fail(job, "NO_ACTION", msg, now), effects
                action = Finish(returned)
            elif state.end and not isinstance(action, Finish | Fail):
                msg = f"end state {state.name!r} may only finish or fail the job"
                return machine.fail(job, "INVALID_TRANSITION", msg, now), effects
            job, more = machine.enter(job, names, action, now)
            effects.merge(more)
            if not isinstance(action, GoTo) or job.terminal:
                return job, effects
        return machine.fail(
            job, "TRANSITION_LOOP", f"more than {MAX_HOPS} go_to steps", now
        ), effects

    async def _commit(
        self, before: Job, after: Job, effects: Effects, *, index: bool = False
    ) -> tuple[bool, int]:
        """Store ``after`` if the job is still as ``before`` was; returns (written, workers
        that got a cancel over a WebSocket)."""
        after = after.evolve(rev=before.rev + 1)
        ttl = self.settings.retention_s if after.terminal else 0
        written = await self.store.commit(
            after, effects, ttl_s=ttl, wake_origin=self.origin, index=index
        )
        if not written:
            return False, 0
        for observe in self.observers:
            try:
                observe(before, after, effects)
            except Exception:
                log.exception("transition observer %r failed", observe)
        for task_type, _, _ in effects.enqueue:
            self._wake(task_type)
        reached = 0
        if effects.cancel:
            reached = await self.store.send_cancels(effects.cancel, int(self.settings.worker_ttl_s))
        return True, reached


def _contention(job_id: str) -> Unavailable:
    return Unavailable(f"job {job_id} is changing too fast; try again", code="CONTENTION")
