"""The webhook sender: each delivery leaves with its transition; a sweep retries.

A transition only writes its outbox entry (``outbox.py``), in the commit's round trip. Then:

- **At once.** The process that made the commit sends the delivery right after it
  (``on_commit``, a ``JobRunner.after_commit`` hook), from the job it has just written: no
  Redis read and no wait for a sweep. The commit wrote the entry due ``hold_s`` ahead, so no
  sweep takes it while this attempt is under way; a 2xx removes it, a failure puts it back for
  its next attempt. Should the process die meanwhile, the entry comes due by itself.
- **The sweep** takes the due entries (retries, entries whose process died, entries the first
  path had no free slot for), each hidden from the other processes for ``hold_s`` while it is
  sent, and checks each against its stored job first (``Sender.tick``). ``loops/webhooks.py``
  runs it: when an entry this process put back comes due, ``sweep_interval_s`` after a sweep
  that found some, and otherwise every ``sweep_idle_interval_s`` (``loops/pacer.py``).

Deliveries under way in one process are bounded: ``webhook_max_in_flight`` in all, and
``webhook_max_per_host`` to one receiver (host and port), so a slow or dead receiver holds only
its own slots. A delivery that finds no free slot is left to the sweep. A failure is retried
with exponential backoff and jitter until ``webhook_max_attempts`` attempts have been made.
Delivery is at least once: a receiver may see an ``X-Webhook-Id`` twice (a process that dies
after the POST, before the removal).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson

from orchestrator.config import Settings
from orchestrator.engine.effects import Effects
from orchestrator.engine.model import JSON, Job, RetryPolicy
from orchestrator.engine.retry import backoff_s
from orchestrator.metrics import Metrics
from orchestrator.storage.redis_store import RedisStore
from orchestrator.webhooks.http import BadAnswer, Pool
from orchestrator.webhooks.outbox import Entry, Outbox, Verdict, check, hold_s
from orchestrator.webhooks.payload import body
from orchestrator.webhooks.signing import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, Signer

log = logging.getLogger("orchestrator.webhooks")

STALE_CHECKS = 3
"""Looks at an entry whose job or event is not stored before it is dropped as stale: a commit
pipeline may reach Redis in pieces, so the entry can be seen just before its job write."""
JITTER = 0.2
"""Each retry delay is moved up to 20 % either way, so receivers that come back are not hit by
every process at the same instant."""
USER_AGENT = "blueprint-orchestrator-webhooks/1"
ATTEMPT_HEADER = "X-Webhook-Attempt"
FIXED_HEADERS = (
    f"Content-Type: application/json\r\nUser-Agent: {USER_AGENT}\r\nAccept: */*\r\n".encode()
)
"""The headers every delivery sends, as they go on the wire."""
SHUTDOWN_GRACE_S = 1.0


@functools.lru_cache(maxsize=1024)
def receiver_of(url: str) -> str:
    """The key of the per-receiver limit: scheme, host and port, as the connection pool keys
    its connections. Cached: a receiver's URL comes back delivery after delivery."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # the URL was checked at creation; never let it stop a delivery
        port = None
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{parts.hostname}:{port or default}"


class Slots:
    """Deliveries under way: ``total`` at most, ``per_host`` of them to one receiver."""

    def __init__(self, total: int, per_host: int) -> None:
        self.total = total
        self.per_host = per_host
        self.busy = 0
        self.hosts: dict[str, int] = {}

    def free(self) -> int:
        return self.total - self.busy

    def take(self) -> None:
        self.busy += 1

    def give(self) -> None:
        self.busy -= 1

    def take_host(self, host: str) -> bool:
        held = self.hosts.get(host, 0)
        if held >= self.per_host:
            return False
        self.hosts[host] = held + 1
        return True

    def give_host(self, host: str) -> None:
        held = self.hosts[host] - 1
        if held:
            self.hosts[host] = held
        else:
            del self.hosts[host]  # receivers come and go: keep no entry for idle ones


class Committer(Protocol):
    """What the sender uses of ``runner.JobRunner``: the runner imports ``outbox`` to write
    the entries, so this package names the runner's shape rather than import it."""

    store: RedisStore
    settings: Settings
    webhook_hold_s: float
    webhooks_due: Callable[[float], None]
    after_commit: list[Callable[[Job, Effects], Awaitable[None]]]

    def approval_token(self, job: Job) -> str | None: ...


class Sender:
    def __init__(self, runner: Committer, metrics: Metrics, pool: Pool):
        s = runner.settings.webhooks
        self.runner = runner
        self.metrics = metrics
        self.pool = pool
        self.outbox = Outbox(runner.store)
        self.sign = Signer(s.secret)
        self.timeout_s = s.timeout_s
        self.hold_s = hold_s(s.timeout_s)
        self.policy = RetryPolicy(
            max_attempts=s.max_attempts,
            initial_interval_s=s.backoff_s,
            backoff_coefficient=2.0,
            max_interval_s=s.backoff_max_s,
            jitter=JITTER,
        )
        self.slots = Slots(s.max_in_flight, s.max_per_host)
        self.in_flight: set[asyncio.Task[None]] = set()

    def attach(self) -> None:
        """From now on, this process sends the deliveries its commits owe at once."""
        self.runner.webhook_hold_s = self.hold_s
        self.runner.after_commit.append(self.on_commit)

    def detach(self) -> None:
        # Entries committed from now on are due at once: the sweep of any process sends them.
        self.runner.webhook_hold_s = 0.0
        if self.on_commit in self.runner.after_commit:
            self.runner.after_commit.remove(self.on_commit)

    async def on_commit(self, job: Job, effects: Effects) -> None:
        """After a stored transition: send the deliveries it owes, without waiting for them.

        Never raises: the transition is stored, and its caller must not see it fail."""
        for member, _ in effects.webhooks:
            try:
                if not self._send_now(member, job):
                    await self.outbox.due_now(member)
            except Exception:
                # It was written due after the hold: it is delivered then, only later.
                log.exception("could not send webhook entry %s at once", member)

    def _send_now(self, member: str, job: Job) -> bool:
        """Start the first attempt of ``member``; False when it is for the sweep instead."""
        entry = Entry.parse(member)
        if entry is None or not job.webhook_url:
            return False
        verdict, event = check(job, entry)
        host = receiver_of(job.webhook_url)
        if verdict is not Verdict.SEND or self.slots.free() <= 0:
            return False
        if not self.slots.take_host(host):
            return False
        try:
            doc = body(job, entry, event, self.runner.approval_token(job))
        except Exception:
            self.slots.give_host(host)
            raise
        self._spawn(self._attempt(member, entry, job.webhook_url, doc), host)
        return True

    def _spawn(self, work: Coroutine[Any, Any, None], host: str | None) -> None:
        """Run ``work`` in a slot; with ``host``, it also holds one of that receiver's."""
        self.slots.take()
        task = asyncio.create_task(self._guard(work))
        self.in_flight.add(task)

        def done(t: asyncio.Task[None]) -> None:
            # In a callback, not a ``finally``: a task cancelled before it first runs (at
            # shutdown) never enters its coroutine.
            self.in_flight.discard(t)
            self.slots.give()
            if host is not None:
                self.slots.give_host(host)

        task.add_done_callback(done)

    async def _guard(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            # Redis gone, say: the entry stays in the outbox and comes due again by itself.
            log.exception("a webhook delivery failed; it will be tried again")

    async def tick(self) -> bool:
        """The sweep: start a delivery for each due entry, as many as there are free slots.
        Returns whether it found work (or had no free slot to look with)."""
        free = self.slots.free()
        if free <= 0:
            return True
        members = await self.outbox.take(free, self.hold_s)
        for member in members:
            self._spawn(self._deliver(member), None)
        return bool(members)

    async def close(self) -> None:
        """Let deliveries under way finish for a moment, then cancel them; their entries come
        due again after the hold."""
        if self.in_flight:
            await asyncio.wait(self.in_flight, timeout=SHUTDOWN_GRACE_S)
        for task in list(self.in_flight):
            task.cancel()
        await asyncio.gather(*self.in_flight, return_exceptions=True)

    async def _deliver(self, member: str) -> None:
        """One entry the sweep took: check it against the stored job, then send it."""
        entry = Entry.parse(member)
        if entry is None:
            log.warning("dropping a malformed webhook outbox entry: %r", member)
            await self.outbox.done(member)
            return
        job = await self.runner.store.load(entry.job_id)
        verdict, event = check(job, entry)
        if verdict is Verdict.NOT_YET and entry.attempt < STALE_CHECKS:
            await self.outbox.retry(member, entry.next_attempt(), self._later(0))
            return
        if verdict is not Verdict.SEND or job is None or not job.webhook_url:
            log.info("webhook %s (%s) dropped: %s", entry.webhook_id, entry.status, verdict.value)
            await self.outbox.done(member)
            return
        host = receiver_of(job.webhook_url)
        if not self.slots.take_host(host):
            # Its receiver has all its slots busy: look again later, as the same attempt.
            await self.outbox.retry(member, entry, self._later(0))
            return
        try:
            doc = body(job, entry, event, self.runner.approval_token(job))
            await self._attempt(member, entry, job.webhook_url, doc)
        finally:
            self.slots.give_host(host)

    async def _attempt(self, member: str, entry: Entry, url: str, doc: JSON) -> None:
        """POST ``doc``, then remove the entry, or put it back for the next attempt."""
        ok, outcome = await self.post(url, entry, doc)
        self.metrics.webhook_delivered(ok)
        if ok:
            await self.outbox.done(member)
            return
        host = urlsplit(url).hostname  # not the URL: it may hold credentials
        if entry.attempt >= self.policy.max_attempts:
            log.warning(
                "webhook %s (%s) to %s failed %d times, giving up; last: %s",
                entry.webhook_id,
                entry.status,
                host,
                entry.attempt,
                outcome,
            )
            await self.outbox.done(member)
            return
        at = self._later(entry.attempt)
        log.info(
            "webhook %s (%s) to %s failed (attempt %d): %s; next in %.1f s",
            entry.webhook_id,
            entry.status,
            host,
            entry.attempt,
            outcome,
            at - time.time(),
        )
        await self.outbox.retry(member, entry.next_attempt(), at)

    def _later(self, failed_attempt: int) -> float:
        """When to look again after ``failed_attempt`` (0: a stale check or a busy receiver,
        the first delay)."""
        return time.time() + backoff_s(self.policy, max(1, failed_attempt))

    async def post(self, url: str, entry: Entry, doc: JSON) -> tuple[bool, str]:
        """POST ``doc`` signed; returns (2xx answered, what happened)."""
        if not entry.webhook_id.isprintable():  # a line break would start another header
            return False, f"webhook id {entry.webhook_id!r} cannot be a header value"
        raw = orjson.dumps(doc)
        sent_at = int(time.time())
        headers = (
            f"{ID_HEADER}: {entry.webhook_id}\r\n{ATTEMPT_HEADER}: {entry.attempt}\r\n"
            f"{TIMESTAMP_HEADER}: {sent_at}\r\n{SIGNATURE_HEADER}: {self.sign(sent_at, raw)}\r\n"
        ).encode()
        try:
            # No redirects (the client follows none): one could lead past the allowed hosts.
            async with asyncio.timeout(self.timeout_s):
                status = await self.pool.post(url, FIXED_HEADERS + headers, raw)
        except (OSError, BadAnswer, ValueError) as exc:  # TimeoutError is an OSError
            return False, f"{type(exc).__name__}: {exc}"
        return 200 <= status < 300, f"HTTP {status}"
