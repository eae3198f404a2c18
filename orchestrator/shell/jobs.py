"""``JobRunner``: the I/O shell around the engine.

Every operation is: load the job, let the engine decide (running handlers when the job enters a
state), store the result in one guarded step. When another process changed the job meanwhile
the guard fails and the operation starts over from a fresh read, so a job never moves twice.
Handlers may therefore run more than once for one transition: they decide, they do not act.

A job whose status is ``running`` after a step has entered a state whose handler must run
now; ``handlers.advance`` runs handlers until the job waits (worker, human, child, branches)
or ends.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable

from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.config import Settings
from orchestrator.dispatch.claim_gate import ClaimGate
from orchestrator.engine import machine
from orchestrator.engine.effects import Effects
from orchestrator.engine.model import JSON, Job, JobStatus
from orchestrator.engine.new_job import NewJob
from orchestrator.errors import Conflict, NotFound, Unavailable
from orchestrator.human import index as human_index
from orchestrator.ids import new_uuid
from orchestrator.shell import handlers
from orchestrator.storage.redis_store import RedisStore
from orchestrator.webhooks import outbox

log = logging.getLogger("orchestrator.shell.jobs")

MAX_CONFLICTS = 20

Observer = Callable[[Job, Job, Effects], None]
"""Called with (before, after, effects) after each stored transition; must not block."""

Step = Callable[[Job, float], Job | tuple[Job, Effects] | None]


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
        self.after_commit: list[Callable[[Job, Effects], Awaitable[None]]] = []
        self.claim_gate = ClaimGate()
        """Coalesces the claims of a burst of long-polls (``dispatch/claim_gate.py``)."""
        self.comes_due: Callable[[float], None] = lambda _at: None
        """Told when something this process stored comes due (a lease, a timer, a backoff;
        epoch seconds): the sweeper then checks at that time (``loops/pacer.py``)."""
        self.webhooks_due: Callable[[float], None] = lambda _at: None
        """The same for the webhook outbox entries its commits write."""
        self.webhook_hold_s = 0.0
        """How far ahead a new webhook outbox entry is due: the webhook sender, which sends
        each at once after the commit, sets it so that no sweep takes the entry meanwhile."""

    def wake(self, queue: str) -> None:
        """A task of ``queue`` was queued by other means than a commit: this process's parked
        long-polls hear of it (the other processes from the store's PUBLISH)."""
        self._wake(queue)

    # -- clients --------------------------------------------------------------------------

    async def create(
        self,
        bp: Blueprint,
        client: str,
        new: NewJob,
        *,
        job_id: str | None = None,
        parent: JSON | None = None,
    ) -> tuple[Job, bool]:
        """Create and start a job; returns (job, False) when ``job_id`` already existed.
        Without ``job_id`` the job gets a new UUID, which no other job can hold: its commit
        then need not read the job first (``RedisStore.commit``'s ``fresh``)."""
        now = time.time()
        job = Job(
            id=job_id or new_uuid(),
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
            parent=parent,
        )
        started, effects = machine.start(job, now)
        advanced, more = await self.advance(bp, started, now)
        effects.merge(more)
        if await self.commit(job, advanced, effects, index=True, fresh=job_id is None):
            return advanced.evolve(rev=1), True
        existing = await self.store.load(job.id)
        if existing is None:
            raise Unavailable("could not store the new job", code="STORAGE_CONFLICT")
        return existing, False

    async def get(self, job_id: str, client: str) -> Job:
        job = await self.store.load(job_id)
        if job is None or job.client != client:
            raise NotFound(f"no job {job_id}", code="JOB_NOT_FOUND")
        return job

    async def cancel(self, job_id: str, client: str | None) -> str:
        """Cancel a job (``client`` None: an internal cancel, e.g. of a child)."""
        for _ in range(MAX_CONFLICTS):
            job = await self._load(job_id, client)
            if job.terminal:
                raise Conflict(
                    f"job {job_id} is already {job.status.value}",
                    code="JOB_ALREADY_TERMINAL",
                    details={"status": job.status.value},
                )
            cancelled, effects = machine.cancel(job, time.time())
            written, reached = await self.commit_counting(job, cancelled, effects)
            if written:
                if reached:
                    return "cancellation_request_sent"
                return "cancellation_request_accepted"
        raise contention(job_id)

    async def retry(self, job_id: str, client: str) -> Job:
        """Resume a failed or quarantined job from the state that failed."""
        for _ in range(MAX_CONFLICTS):
            job = await self._load(job_id, client)
            if job.status not in (JobStatus.FAILED, JobStatus.QUARANTINED):
                raise Conflict(
                    f"only failed or quarantined jobs can be retried; job {job_id} is "
                    f"{job.status.value}",
                    code="JOB_NOT_RETRYABLE",
                    details={"status": job.status.value},
                )
            bp = await self.registry.find_version(job.blueprint, job.blueprint_version)
            if bp is None:
                raise Conflict(
                    f"blueprint {job.blueprint} version {job.blueprint_version} is not served "
                    "here any more",
                    code="BLUEPRINT_CHANGED",
                )
            now = time.time()
            resumed, effects = await self.advance(bp, machine.resume(job, now), now)
            if await self.commit(job, resumed, effects):
                return resumed
        raise contention(job_id)

    # -- humans ---------------------------------------------------------------------------

    def approval_token(self, job: Job) -> str | None:
        """HMAC of the job and the wait it is in: valid for this wait only."""
        if job.human is None:
            return None
        text = f"{job.id}:{job.human['state']}:{job.human['seq']}".encode()
        return hmac.new(
            self.settings.auth.approval_secret.encode(), text, hashlib.sha256
        ).hexdigest()

    # -- the shared machinery ---------------------------------------------------------------

    async def step(self, job: Job, change: Step, *, kept: bool = False) -> bool:
        """Apply one engine step to ``job`` as read; run handlers if it entered a state.

        Returns False when the job changed meanwhile (the caller reads it again), True when
        stored or when ``change`` decided there is nothing to do (returned None). ``kept``:
        ``job`` is the job as this process's claim left it, not a read (``commit_counting``).
        """
        now = time.time()
        out = change(job, now)
        if out is None:
            return True
        after, effects = out if isinstance(out, tuple) else (out, Effects())
        if after.status == JobStatus.RUNNING:
            bp = await self.registry.find_version(after.blueprint, after.blueprint_version)
            if bp is None:
                after = self.blueprint_changed(after, now)
            else:
                after, more = await self.advance(bp, after, now)
                effects.merge(more)
        return await self.commit(job, after, effects, kept=kept)

    async def _load(self, job_id: str, client: str | None) -> Job:
        if client is not None:
            return await self.get(job_id, client)
        job = await self.store.load(job_id)
        if job is None:
            raise NotFound(f"no job {job_id}", code="JOB_NOT_FOUND")
        return job

    def blueprint_of(self, job: Job) -> Blueprint | None:
        # a registered blueprint's earlier versions stay served while jobs run on them
        return self.registry.get_version(job.blueprint, job.blueprint_version)

    def blueprint_changed(self, job: Job, now: float) -> Job:
        bp = self.registry.get(job.blueprint)
        found = f"version {bp.version}" if bp else "no such blueprint"
        return machine.fail(
            job,
            "BLUEPRINT_CHANGED",
            f"job started on {job.blueprint} version {job.blueprint_version}; this "
            f"orchestrator has {found}",
            now,
        )

    async def advance(self, bp: Blueprint, job: Job, now: float) -> tuple[Job, Effects]:
        """Run handlers from the job's state until it waits or ends (``handlers.py``)."""
        return await handlers.advance(self.registry, bp, job, now)

    async def commit(
        self,
        before: Job,
        after: Job,
        effects: Effects,
        *,
        index: bool = False,
        fresh: bool = False,
        kept: bool = False,
    ) -> bool:
        """Store ``after`` if the job is still as ``before`` was."""
        written, _ = await self.commit_counting(
            before, after, effects, index=index, fresh=fresh, kept=kept
        )
        return written

    async def commit_counting(
        self,
        before: Job,
        after: Job,
        effects: Effects,
        *,
        index: bool = False,
        fresh: bool = False,
        kept: bool = False,
    ) -> tuple[bool, int]:
        """``commit``, also returning how many workers a cancel reached over a WebSocket.

        Child jobs are created before the parent's write, their link naming the rev that
        write gives the parent (``_create_child``). From a ``kept`` job, which may be as old
        as the task's whole run, the job is read first: a child started from an old view
        would name a rev the parent may reach by other writes, and be taken as started by a
        parent that never waited for it (``shell/timers.py``)."""
        if kept and effects.children:
            current = await self.store.load(before.id)
            if current is None or current.rev != before.rev:
                return False, 0
        after = after.evolve(rev=before.rev + 1)
        keys = self.store.keys
        after, inbox = human_index.change(keys.prefix, keys.timers, before, after)
        if after.terminal and not before.terminal and after.parent:
            # Tell the parent, durably: the timer fires even if we die right after.
            member = machine.timer_member("child", after.parent["job_id"], after.id)
            effects.timers.append((member, time.time()))
        entry = outbox.entry_for(before, after)
        if entry is not None:  # stored before the job write: an owed delivery survives a crash
            effects.webhooks.append((entry.member(), time.time() + self.webhook_hold_s))
        for child_id, name, data in effects.children:
            await self._create_child(after, child_id, name, data)
        ttl = self.settings.retention_s if after.terminal else (-1 if before.terminal else 0)
        written = await self.store.commit(
            after,
            effects,
            ttl_s=ttl,
            wake_origin=self.origin,
            index=index,
            fresh=fresh,
            extra=inbox,
        )
        self._tell_due(effects)
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
            reached = await self.store.send_cancels(
                effects.cancel, int(self.settings.workers.ttl_s)
            )
        for hook in self.after_commit:
            await hook(after, effects)
        return True, reached

    def _tell_due(self, effects: Effects) -> None:
        # Written or not, a commit's entries are stored: the sweeps look at them when due.
        for _, at in effects.timers:
            self.comes_due(at)
        for _, _, at in effects.delay:
            self.comes_due(at)
        for _, at in effects.webhooks:
            self.webhooks_due(at)

    async def _create_child(self, parent: Job, child_id: str, name: str, data: JSON) -> None:
        bp = self.registry.get(name)
        assert bp is not None  # checked in advance()
        # The rev the parent has once the commit that creates this child lands: a child that
        # ends first can tell whether its parent's commit has landed yet (shell/timers.py).
        link = {"job_id": parent.id, "rev": parent.rev}
        await self.create(bp, parent.client, NewJob(data), job_id=child_id, parent=link)


def contention(job_id: str) -> Unavailable:
    return Unavailable(f"job {job_id} is changing too fast; try again", code="CONTENTION")
