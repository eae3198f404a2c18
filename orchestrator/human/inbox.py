"""Reading the inbox: pages of waiting human steps, and counts by role.

Pages are range reads of one index (``index.py``): the assignee's if given, else the role's,
else the blueprint's, else the client's whole inbox; other filters are applied to the page's
entries as they are checked (``unassigned``, ``assigned`` and ``search`` too: they have no
index of their own, so a page of them reads past the steps they leave out). Each entry is
checked against its job (one pipelined HMGET per page): an entry whose write lost, or whose
removal a crash cut off, is dropped on the way; one whose job write has not landed yet is
skipped, not dropped.
The cost of a page therefore depends on the page size, not on how many steps wait; a
numbered page (``numbered``), which must count, reads the whole index (up to ``COUNT_LIMIT``).
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import orjson

from orchestrator.human.index import NO_ROLE, InboxKeys
from orchestrator.human.view import task_view
from orchestrator.storage.redis_store import RedisStore

CURSOR_SCORE = re.compile(r"-?\d{1,16}")
SCAN_LIMIT = 2000
"""Entries one page may look at while filtering; past it the page ends early, with a cursor."""
COUNT_LIMIT = 10_000
"""Entries a numbered page may look at to count the matching steps; past it, no count."""


@dataclass(frozen=True)
class Filters:
    role: str | None = None
    assignee: str | None = None
    blueprint: str | None = None
    overdue: bool = False
    unassigned: bool = False
    assigned: bool = False
    search: str | None = None
    """Case-folded text to find in the step's ``SEARCHED`` texts."""


SEARCHED = ("subject", "description")
"""The keys of a step's ``summary`` that ``search`` looks in, besides its assignee (a ticket's
summary has both: ``workflows/compile.py``)."""


def searched(human: dict[str, Any]) -> list[str]:
    """The texts of a step that ``search`` looks in, case-folded."""
    summary = human.get("summary")
    found = [summary.get(k) for k in SEARCHED] if isinstance(summary, dict) else []
    found.append(human.get("assignee"))
    return [str(text).casefold() for text in found if text is not None]


def encode_cursor(score: float, member: str) -> str:
    """``<score>:<member>``: where the last page stopped. Any such text is a valid cursor (it
    only says where to resume), so none is refused for what it names."""
    return f"{int(score)}:{member}"


def decode_cursor(cursor: str) -> tuple[int, str]:
    """Raises ValueError for text that is not ``<integer>:<anything>``."""
    score, sep, member = cursor.partition(":")
    if not sep or not CURSOR_SCORE.fullmatch(score):
        raise ValueError("not a cursor from an earlier page (<score>:<entry>)")
    return int(score), member


def _index(keys: InboxKeys, f: Filters) -> str:
    if f.assignee:
        return keys.user(f.assignee)
    if f.role:
        return keys.role(f.role)
    if f.blueprint:
        return keys.blueprint(f.blueprint)
    return keys.all


def _matches(human: dict[str, Any], blueprint: str, f: Filters) -> bool:
    return (
        (not f.role or human.get("role") == f.role)
        and (not f.assignee or human.get("assignee") == f.assignee)
        and (not f.blueprint or blueprint == f.blueprint)
        and (not f.unassigned or not human.get("assignee"))
        and (not f.assigned or bool(human.get("assignee")))
        and (not f.search or any(f.search in text for text in searched(human)))
    )


class _Walk:
    """The entries of one index in due order from a cursor's position, each checked against
    its job (``_checked``), read ``batch`` at a time; ``exhausted`` once the index's end was
    read, else the walk stopped at ``scan_limit`` entries looked at."""

    def __init__(
        self, store: RedisStore, key: str, f: Filters, now: float, cursor: str | None
    ) -> None:
        self.store, self.key, self.f, self.now = store, key, f, now
        self.lo: int | None = None
        self.last = ""
        if cursor:
            self.lo, self.last = decode_cursor(cursor)
        self.exhausted = False

    async def entries(
        self, batch: int, scan_limit: int
    ) -> AsyncGenerator[tuple[dict[str, Any] | None, int, str], None]:
        """(view or None when not shown, score, member) of each entry, in order."""
        redis: Any = self.store.redis
        hi: Any = int(self.now * 1000) if self.f.overdue else "+inf"
        lo, last = self.lo, self.last
        scanned, skip = 0, 0
        while scanned < scan_limit:
            start = "-inf" if lo is None else lo
            rows = await redis.zrangebyscore(
                self.key, start, hi, start=skip, num=batch, withscores=True
            )
            entries = [(m.decode(), int(s)) for m, s in rows]
            # the cursor's own score is read again (ties): skip what the cursor has passed
            fresh = [(m, s) for m, s in entries if lo is None or s > lo or m > last]
            scanned += len(entries)
            for view, score, member in await _checked(
                self.store, self.key, fresh, self.f, self.now
            ):
                lo, last = score, member
                yield view, score, member
            if len(entries) < batch:
                self.exhausted = True
                return
            skip = skip + len(entries) if not fresh else 0


async def page(
    store: RedisStore, client: str, f: Filters, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` waiting steps in due order, and the cursor of the next page (None:
    this was the last)."""
    key = _index(InboxKeys(store.keys.prefix, client), f)
    walk = _Walk(store, key, f, time.time(), cursor)
    found: list[dict[str, Any]] = []
    at: str | None = None
    async with aclosing(walk.entries(limit + 20, SCAN_LIMIT)) as entries:
        async for view, score, member in entries:
            at = encode_cursor(score, member)
            if view is not None:
                found.append(view)
                if len(found) == limit:
                    return found, at
    if walk.exhausted:
        return found, None
    if at is None and cursor:  # nothing read past the cursor before the scan limit
        at = encode_cursor(*decode_cursor(cursor))
    return found, at


@dataclass(frozen=True)
class Numbered:
    """One numbered page (``?page=``): its steps, how many match in all (None when the
    inbox is too big to count), whether a page follows, and the cursor after this page's
    last step (None: nothing follows)."""

    items: list[dict[str, Any]]
    count: int | None
    more: bool
    cursor: str | None


async def numbered(store: RedisStore, client: str, f: Filters, number: int, size: int) -> Numbered:
    """Page ``number`` (from 1) of ``size`` steps, and the count of every matching step.

    A number has no position in the index to resume from: the walk starts at the first
    entry and checks every one, up to ``COUNT_LIMIT`` entries (past them, ``count`` is None
    and a page that starts beyond them is empty)."""
    key = _index(InboxKeys(store.keys.prefix, client), f)
    walk = _Walk(store, key, f, time.time(), None)
    first = (number - 1) * size
    items: list[dict[str, Any]] = []
    matched = 0
    cursor: str | None = None
    async with aclosing(walk.entries(200, COUNT_LIMIT)) as entries:
        async for view, score, member in entries:
            if view is None:
                continue
            if first <= matched < first + size:
                items.append(view)
                cursor = encode_cursor(score, member)
            matched += 1
    more = matched > first + size or not walk.exhausted
    return Numbered(items, matched if walk.exhausted else None, more, cursor if more else None)


async def _checked(
    store: RedisStore, key: str, entries: list[tuple[str, int]], f: Filters, now: float
) -> list[tuple[dict[str, Any] | None, int, str]]:
    """(view or None when not shown, score, member) of each entry, in order."""
    if not entries:
        return []
    redis: Any = store.redis
    async with redis.pipeline(transaction=False) as pipe:
        for member, _ in entries:
            pipe.hmget(store.keys.job(member.split("|")[0]), "status", "rev", "doc")
        rows = await pipe.execute()
    out: list[tuple[dict[str, Any] | None, int, str]] = []
    stale: list[str] = []
    for (member, score), (status, rev, doc) in zip(entries, rows, strict=True):
        job_id, _, placed = member.partition("|")
        current = int(rev) if rev is not None else None
        if (current is None and placed == "1") or (current is not None and current < int(placed)):
            # its job write is still on its way (a job created waiting has no hash before it)
            out.append((None, score, member))
            continue
        stored = orjson.loads(doc) if doc else {}
        human: dict[str, Any] = stored.get("human") or {}
        blueprint = str(stored.get("blueprint", ""))
        standing = (
            status == b"waiting_for_human"
            and str(human.get("rev")) == placed
            and _matches(human, blueprint, _only_index(f))
        )
        if not standing:
            stale.append(member)  # a lost write's entry, or one a crash left behind
            out.append((None, score, member))
        elif not _matches(human, blueprint, f):
            out.append((None, score, member))
        else:
            out.append((task_view(job_id, blueprint, human, now), score, member))
    if stale:
        await redis.zrem(key, *stale)
    return out


def _only_index(f: Filters) -> Filters:
    """The one filter the index read stands for (``_index``'s choice)."""
    if f.assignee:
        return Filters(assignee=f.assignee)
    if f.role:
        return Filters(role=f.role)
    return Filters(blueprint=f.blueprint)


async def counts(store: RedisStore, clients: list[str]) -> dict[str, dict[str, int]]:
    """role → {"waiting", "overdue"} over ``clients``' inboxes: two round trips."""
    redis: Any = store.redis
    prefix = store.keys.prefix
    async with redis.pipeline(transaction=False) as pipe:
        for client in clients:
            pipe.smembers(InboxKeys(prefix, client).roles)
        role_sets = await pipe.execute()
    now_ms = int(time.time() * 1000)
    pairs = [
        (client, role.decode())
        for client, roles in zip(clients, role_sets, strict=True)
        for role in sorted(roles)
    ]
    async with redis.pipeline(transaction=False) as pipe:
        for client, role in pairs:
            key = InboxKeys(prefix, client).role(None if role == NO_ROLE else role)
            pipe.zcard(key)
            pipe.zcount(key, "-inf", now_ms)
        numbers = await pipe.execute()
    out: dict[str, dict[str, int]] = {}
    for i, (_, role) in enumerate(pairs):
        slot = out.setdefault(role, {"waiting": 0, "overdue": 0})
        slot["waiting"] += int(numbers[2 * i])
        slot["overdue"] += int(numbers[2 * i + 1])
    return out
