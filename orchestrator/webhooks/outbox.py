"""The durable webhook outbox: which transitions owe a delivery, and the Redis zset they wait in.

A stored transition that puts a job with a ``webhook_url`` into a notified status owes one
delivery. ``JobRunner.commit`` adds its entry to the transition's ``Effects``, and the store
writes it in the commit's pipeline *before* the guarded job write, like every other hint: one
ZADD, no transaction across slots. A commit that then loses its compare-and-set leaves an
entry for an event that never happened, so the sweep checks each entry against the stored
job (``check``) before it sends anything.

The entry is written due ``hold_s`` after the commit: the committing process sends it at once
(``sender.py``), and until then no sweep may take it; should that process die, the entry comes
due by itself.

Members name the event, not the job's state at the time: ``{"job_id", "event_id", "status",
"attempt"}``; the score is when the next attempt is due (epoch ms).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import orjson

from orchestrator.engine.model import JSON, Job, JobStatus
from orchestrator.storage.redis_store import RedisStore

NOTIFIED: dict[JobStatus, str] = {
    JobStatus.WAITING_FOR_HUMAN: "human_waiting",
    JobStatus.FINISHED: "job_finished",
    JobStatus.FAILED: "job_failed",
    JobStatus.CANCELLED: "job_cancelled",
    JobStatus.QUARANTINED: "job_quarantined",
}
"""Statuses that send a webhook → the type of the history event that enters them."""

_MS = 1000.0


def hold_s(timeout_s: float) -> float:
    """How long an entry being sent stays invisible to the sweeps: longer than one POST
    (``timeout_s``) and the write that follows it."""
    return 2 * timeout_s + 1


@dataclass(frozen=True)
class Entry:
    job_id: str
    event_id: int
    """Id of the history event that put the job in ``status`` (ids are positions, from 1)."""
    status: JobStatus
    attempt: int = 1

    @property
    def webhook_id(self) -> str:
        """Names the delivery across attempts and processes (the receiver's dedup key)."""
        return f"{self.job_id}:{self.event_id}"

    def member(self) -> str:
        doc = {
            "job_id": self.job_id,
            "event_id": self.event_id,
            "status": self.status.value,
            "attempt": self.attempt,
        }
        return orjson.dumps(doc).decode()

    @classmethod
    def parse(cls, member: str) -> Entry | None:
        try:
            doc = orjson.loads(member)
            status = JobStatus(doc["status"])
            if status not in NOTIFIED:
                return None
            return cls(str(doc["job_id"]), int(doc["event_id"]), status, int(doc["attempt"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None

    def next_attempt(self) -> Entry:
        return replace(self, attempt=self.attempt + 1)


def entry_for(before: Job, after: Job) -> Entry | None:
    """The delivery the transition ``before`` → ``after`` owes, if any.

    One is owed when the job has a ``webhook_url`` and the transition recorded the event that
    entered a notified status. Comparing events rather than statuses also notifies a job that
    goes from one human wait straight into another (a new approval token) and a retried job
    that fails again.
    """
    event_type = NOTIFIED.get(after.status)
    if not after.webhook_url or event_type is None:
        return None
    known = int(before.history[-1]["id"]) if before.history else 0
    for event in reversed(after.history):
        if int(event["id"]) <= known:
            break
        if event["type"] == event_type:
            return Entry(after.id, int(event["id"]), after.status)
    return None


class Verdict(Enum):
    SEND = "send"
    STALE = "stale"
    """The event never happened (its commit lost) or the job has no webhook: drop the entry."""
    OVER = "over"
    """A human wait that has ended: its approval token is no use any more; drop the entry."""
    NOT_YET = "not_yet"
    """The job (or its event) is not there: the commit may still be on its way; look again."""


def check(job: Job | None, entry: Entry) -> tuple[Verdict, JSON]:
    """Whether the stored ``job`` bears ``entry`` out; with the event when it does."""
    if job is None:
        return Verdict.NOT_YET, {}
    if not job.webhook_url:
        return Verdict.STALE, {}
    if len(job.history) < entry.event_id:
        return Verdict.NOT_YET, {}
    event = job.history[entry.event_id - 1]
    if int(event["id"]) != entry.event_id or event["type"] != NOTIFIED[entry.status]:
        return Verdict.STALE, {}
    if entry.status == JobStatus.WAITING_FOR_HUMAN:
        waits = [e["id"] for e in job.history if e["type"] == NOTIFIED[entry.status]]
        if job.status != JobStatus.WAITING_FOR_HUMAN or waits[-1] != entry.event_id:
            return Verdict.OVER, event
    return Verdict.SEND, event


class Outbox:
    """The store side: take due entries, finish them, or put them back for later."""

    def __init__(self, store: RedisStore) -> None:
        self.store = store
        self.key = store.keys.webhook_outbox
        self._redis: Any = store.redis
        self.comes_due: Callable[[float], None] = lambda _at: None
        """Told when an entry this process put back comes due (epoch seconds), so that the
        sweep runs then."""

    async def take(self, limit: int, hold_s: float) -> list[str]:
        """Due entries, each pushed ``hold_s`` ahead so that no other process takes it
        meanwhile; one whose holder dies comes due again after that."""
        due = await self.store.scripts.take_due(
            keys=[self.key], args=[int(time.time() * _MS), limit, int(hold_s * _MS)]
        )
        return [m.decode() for m in due]

    async def done(self, member: str) -> None:
        """The entry's delivery is over (sent, given up, or stale). Its removal may wait a
        moment, in one ``ZREM`` with others (``storage/released.py``): the entry stays held
        (``hold_s``) meanwhile, so no sweep takes it, and a process that dies first leaves
        it to be sent once more, as a death between the POST and the removal always did.
        On Cluster it goes at once."""
        if self.store.cluster:
            await self._redis.zrem(self.key, member)
        else:
            self.store.released.add([(self.key, member)])

    async def retry(self, member: str, entry: Entry, at: float) -> bool:
        """Replace ``member`` with ``entry`` due at ``at``; False when it was gone already."""
        moved = await self.store.scripts.reschedule(
            keys=[self.key], args=[member, entry.member(), int(at * _MS)]
        )
        self.comes_due(at)
        return bool(moved)

    async def due_now(self, member: str) -> None:
        """Hand ``member`` to the next sweep (unless it is gone already)."""
        await self._redis.zadd(self.key, {member: int(time.time() * _MS)}, xx=True)
        self.comes_due(time.time())

    async def add(self, entry: Entry, at: float) -> None:
        await self._redis.zadd(self.key, {entry.member(): int(at * _MS)})
        self.comes_due(at)

    async def entries(self) -> list[tuple[Entry | None, float]]:
        """Every entry with its due time (for operators and tests)."""
        rows = await self._redis.zrange(self.key, 0, -1, withscores=True)
        return [(Entry.parse(m.decode()), score / _MS) for m, score in rows]
