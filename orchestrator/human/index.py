"""The inbox: Redis indexes of waiting human steps, kept by the commit that changes the job.

Per client (hash tag ``{h:<client>}``, so each client's inbox is one Cluster slot):

- ``all``, ``role:<role>`` (``norole``), ``user:<assignee>``, ``bp:<blueprint>``: sorted sets
  of ``<job id>|<rev>``, scored by due time in ms (steps with no due time after every due
  one, by age), so a page is a range read whatever the size of the inbox;
- ``roles``: every role that has had a step (counts walk it);
- ``events``: a stream of inbox changes (``added``, ``updated``, ``removed``), trimmed to
  about ``STREAM_LEN`` entries, read by ``GET /api/v1/human-tasks/events``.

A job and its client's inbox live in different slots, so no one script can write both. The
commit orders them as it orders queue hints: entries for the new placement go first, in the
same round trip as the job's compare-and-set; removals of the old placement, the cancelled
escalation timers and the stream entry follow only when that write won. ``<rev>`` is the
revision that placed the step (``human["rev"]``), so an entry names one placement: readers
check each entry against the job (``inbox.py``) and drop the ones whose write lost or whose
removal a crash cut off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from orchestrator.engine.human import escalation_timer
from orchestrator.engine.machine import timer_member
from orchestrator.engine.model import JSON, Job, JobStatus

NO_DUE_MS = 10**13
"""Added to the creation time of a step with no due time: after every real due time."""
STREAM_LEN = 10_000
NO_ROLE = "(none)"
"""How counts name steps without a role (not a valid role name, so never ambiguous)."""


class InboxKeys:
    def __init__(self, prefix: str, client: str) -> None:
        base = f"{prefix}:{{h:{client}}}"
        self.base = base
        self.all = f"{base}:all"
        self.roles = f"{base}:roles"
        self.events = f"{base}:events"
        self.channel = f"{prefix}:inbox"

    def role(self, role: str | None) -> str:
        return f"{self.base}:role:{role}" if role else f"{self.base}:norole"

    def user(self, assignee: str) -> str:
        return f"{self.base}:user:{assignee}"

    def blueprint(self, name: str) -> str:
        return f"{self.base}:bp:{name}"


def waiting(job: Job) -> JSON | None:
    """The human step ``job`` waits in, if it waits in one."""
    if job.status != JobStatus.WAITING_FOR_HUMAN or job.human is None:
        return None
    return job.human


def score(human: JSON) -> int:
    due = human.get("due")
    if due is not None:
        return int(float(due) * 1000)
    return NO_DUE_MS + int(float(human.get("created") or 0) * 1000)


def index_keys(keys: InboxKeys, blueprint: str, human: JSON) -> list[str]:
    found = [keys.all, keys.role(human.get("role")), keys.blueprint(blueprint)]
    if human.get("assignee"):
        found.append(keys.user(human["assignee"]))
    return found


def _placement(job: Job, human: JSON | None) -> tuple[Any, ...] | None:
    if human is None:
        return None
    return (human["seq"], human.get("role"), human.get("assignee"), job.blueprint, score(human))


@dataclass
class InboxChange:
    """What one commit does to its client's inbox (a ``storage.commit_extra.CommitExtra``)."""

    keys: InboxKeys
    client: str
    adds: list[tuple[str, str, int]] = field(default_factory=list)
    role: str | None = None
    removes: list[tuple[str, str]] = field(default_factory=list)
    timers_key: str = ""
    timers: list[str] = field(default_factory=list)
    events: list[JSON] = field(default_factory=list)

    def before(self, pipe: Any) -> int:
        for key, member, at in self.adds:
            pipe.zadd(key, {member: at})
        if self.adds:
            pipe.sadd(self.keys.roles, self.role or NO_ROLE)
        return len(self.adds) + bool(self.adds)

    def after(self, pipe: Any) -> None:
        for key, member in self.removes:
            pipe.zrem(key, member)
        if self.timers:
            pipe.zrem(self.timers_key, *self.timers)
        for event in self.events:
            data = orjson.dumps(event)
            pipe.xadd(self.keys.events, {"data": data}, maxlen=STREAM_LEN, approximate=True)
        if self.events:
            pipe.publish(self.keys.channel, self.client)


def change(prefix: str, timers_key: str, before: Job, after: Job) -> tuple[Job, InboxChange | None]:
    """The inbox side of the commit ``before`` → ``after`` (``after.rev`` already set).

    Returns ``after`` with ``human["rev"]`` set when the step is placed anew."""
    was, now = waiting(before), waiting(after)
    if was is None and now is None:
        return after, None
    keys = InboxKeys(prefix, after.client)
    out = InboxChange(keys, after.client, timers_key=timers_key)
    moved = _placement(before, was) != _placement(after, now)
    if was is not None and moved and was.get("rev") is not None:
        member = f"{before.id}|{was['rev']}"
        out.removes = [(key, member) for key in index_keys(keys, before.blueprint, was)]
    if now is not None and moved:
        now = {**now, "rev": after.rev}
        after = after.evolve(human=now)
        member = f"{after.id}|{after.rev}"
        at = score(now)
        out.adds = [(key, member, at) for key in index_keys(keys, after.blueprint, now)]
        out.role = now.get("role")
    if was is not None and (now is None or now["seq"] != was["seq"]):
        # the wait is over: its pending escalations and its timeout will never act
        seq = int(was["seq"])
        levels = range(1, len(was.get("escalations") or []) + 1)
        out.timers = [escalation_timer(before.id, seq, n) for n in levels]
        if was.get("deadline") is not None:
            out.timers.append(timer_member("human", before.id, was["state"], seq))
    out.events = _events(after, was, now, moved)
    if not (out.adds or out.removes or out.timers or out.events):
        return after, None  # e.g. a write that changed nothing of the step: no second trip
    return after, out


def _events(after: Job, was: JSON | None, now: JSON | None, moved: bool) -> list[JSON]:
    if was is not None and now is not None and was["seq"] == now["seq"]:
        if moved or was.get("level") != now.get("level"):
            return [_event("updated", after, now, was)]
        return []
    found = []
    if was is not None:
        found.append(_event("removed", after, was, was))
    if now is not None:
        found.append(_event("added", after, now, None))
    return found


def _event(kind: str, after: Job, shown: JSON, was: JSON | None) -> JSON:
    event: JSON = {
        "type": kind,
        "job_id": after.id,
        "blueprint": after.blueprint,
        "state": shown.get("state"),
        "role": shown.get("role"),
        "assignee": shown.get("assignee"),
        "level": shown.get("level", 0),
        "due": shown.get("due"),
        "title": shown.get("title"),
        "at": after.updated_at,
    }
    if kind == "updated" and was is not None:
        event["previous_role"] = was.get("role")
        event["previous_assignee"] = was.get("assignee")
    if kind == "removed":
        event["job_status"] = after.status.value
    return event
