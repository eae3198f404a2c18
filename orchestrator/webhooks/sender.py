"""The webhook sender: one background loop per process delivers the due outbox entries.

Never on a request path: a transition only writes its outbox entry (``outbox.py``); this loop,
every ``sweep_interval_s``, takes due entries with a visibility hold (so several processes can
run it without sending one entry twice at once), checks each against its job, POSTs it signed,
and removes it on a 2xx. A failure puts it back with exponential backoff and jitter, until
``webhook_max_attempts`` attempts have been made. Delivery is at least once: a receiver may see
an ``X-Webhook-Id`` twice (a process that dies after the POST, before the removal).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import aiohttp
import orjson
from aiohttp import web

from orchestrator.engine.model import JSON, RetryPolicy
from orchestrator.engine.retry import backoff_s
from orchestrator.loops.supervisor import run_every
from orchestrator.metrics import Metrics
from orchestrator.runner import JobRunner
from orchestrator.webhooks.outbox import Entry, Outbox, Verdict, check
from orchestrator.webhooks.payload import body
from orchestrator.webhooks.signing import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

log = logging.getLogger("orchestrator.webhooks")

MAX_IN_FLIGHT = 32
"""Deliveries one process has under way at once; a slow receiver holds only its own."""
STALE_CHECKS = 3
"""Looks at an entry whose job or event is not stored before it is dropped as stale: a commit
pipeline may reach Redis in pieces, so the entry can be seen just before its job write."""
JITTER = 0.2
"""Each retry delay is moved up to 20 % either way, so receivers that come back are not hit by
every process at the same instant."""
USER_AGENT = "blueprint-orchestrator-webhooks/1"
ATTEMPT_HEADER = "X-Webhook-Attempt"
SHUTDOWN_GRACE_S = 1.0


def hold_s(timeout_s: float) -> float:
    """How long a taken entry stays invisible to other processes: longer than one POST."""
    return 2 * timeout_s + 1


class Sender:
    def __init__(self, runner: JobRunner, metrics: Metrics, session: aiohttp.ClientSession):
        s = runner.settings
        self.runner = runner
        self.metrics = metrics
        self.session = session
        self.outbox = Outbox(runner.store)
        self.secret = s.webhook_secret
        self.hold_s = hold_s(s.webhook_timeout_s)
        self.policy = RetryPolicy(
            max_attempts=s.webhook_max_attempts,
            initial_interval_s=s.webhook_backoff_s,
            backoff_coefficient=2.0,
            max_interval_s=s.webhook_backoff_max_s,
            jitter=JITTER,
        )
        self.in_flight: set[asyncio.Task[None]] = set()

    async def tick(self) -> None:
        """Start a delivery for each due entry, as many as there are free slots."""
        free = MAX_IN_FLIGHT - len(self.in_flight)
        if free <= 0:
            return
        for member in await self.outbox.take(free, self.hold_s):
            task = asyncio.create_task(self.deliver(member))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)

    async def close(self) -> None:
        """Let deliveries under way finish for a moment, then cancel them; their entries come
        due again after the hold."""
        if self.in_flight:
            await asyncio.wait(self.in_flight, timeout=SHUTDOWN_GRACE_S)
        for task in self.in_flight:
            task.cancel()
        await asyncio.gather(*self.in_flight, return_exceptions=True)

    async def deliver(self, member: str) -> None:
        try:
            await self._deliver(member)
        except Exception:
            # Redis gone, say: the entry stays taken and comes due again after the hold.
            log.exception("webhook outbox entry %s failed; it will be tried again", member)

    async def _deliver(self, member: str) -> None:
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
        doc = body(job, entry, event, self.runner.approval_token(job))
        ok, outcome = await self.post(job.webhook_url, entry, doc)
        self.metrics.webhook_delivered(ok)
        host = urlsplit(job.webhook_url).hostname  # not the URL: it may hold credentials
        if ok:
            await self.outbox.done(member)
        elif entry.attempt >= self.policy.max_attempts:
            log.warning(
                "webhook %s (%s) to %s failed %d times, giving up; last: %s",
                entry.webhook_id,
                entry.status,
                host,
                entry.attempt,
                outcome,
            )
            await self.outbox.done(member)
        else:
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
        """When to look again after ``failed_attempt`` (0: a stale check, the first delay)."""
        return time.time() + backoff_s(self.policy, max(1, failed_attempt))

    async def post(self, url: str, entry: Entry, doc: JSON) -> tuple[bool, str]:
        """POST ``doc`` signed; returns (2xx answered, what happened)."""
        raw = orjson.dumps(doc)
        sent_at = int(time.time())
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: entry.webhook_id,
            ATTEMPT_HEADER: str(entry.attempt),
            TIMESTAMP_HEADER: str(sent_at),
            SIGNATURE_HEADER: signature(self.secret, sent_at, raw),
        }
        try:
            # No redirects: a redirect could lead past the allowed hosts.
            async with self.session.post(
                url, data=raw, headers=headers, allow_redirects=False
            ) as resp:
                return 200 <= resp.status < 300, f"HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return False, f"{type(exc).__name__}: {exc}"


def webhook_sender(
    runner: JobRunner, metrics: Metrics
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx`` entry; add it after the one that closes the store, so that it exits
    first. Without a ``webhook_secret`` there is nothing to sign with, and it does nothing."""

    async def background(_: web.Application) -> AsyncIterator[None]:
        settings = runner.settings
        if not settings.webhook_secret:
            yield
            return
        timeout = aiohttp.ClientTimeout(total=settings.webhook_timeout_s)
        async with aiohttp.ClientSession(
            timeout=timeout, headers={"User-Agent": USER_AGENT}
        ) as session:
            sender = Sender(runner, metrics, session)
            loop = asyncio.create_task(
                run_every("webhook sender", settings.sweep_interval_s, sender.tick)
            )
            yield
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)
            await sender.close()

    return background
