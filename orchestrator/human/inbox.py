"""Reading the inbox: pages of waiting human steps, and counts by role.

Pages are range reads of one index (``index.py``): the assignee's if given, else the role's,
else the blueprint's, else the client's whole inbox; other filters are applied to the page's
entries as they are checked (``unassigned`` too: steps assigned to nobody have no index of
their own, so a page of them reads past the assigned ones). Each entry is checked against its
job (one pipelined HMGET per page): an entry whose write lost, or whose removal a crash cut
off, is dropped on the way; one whose job write has not landed yet is skipped, not dropped.
The cost of a page therefore depends on the page size, not on how many steps wait.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import orjson

from orchestrator.human.index import NO_ROLE, InboxKeys
from orchestrator.human.view import task_view
from orchestrator.storage.redis_store import RedisStore

CURSOR_SCORE = re.compile(r"-?\d{1,16}")
SCAN_LIMIT = 2000
"""Entries one page may look at while filtering; past it the page ends early, with a cursor."""


@dataclass(frozen=True)
class Filters:
    role: str | None = None
    assignee: str | None = None
    blueprint: str | None = None
    overdue: bool = False
    unassigned: bool = False


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
    )


async def page(
    store: RedisStore, client: str, f: Filters, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` waiting steps in due order, and the cursor of the next page (None:
    this was the last)."""
    redis: Any = store.redis
    key = _index(InboxKeys(store.keys.prefix, client), f)
    now = time.time()
    hi: Any = int(now * 1000) if f.overdue else "+inf"
    lo, last = decode_cursor(cursor) if cursor else (None, "")
    found: list[dict[str, Any]] = []
    scanned, skip = 0, 0
    while scanned < SCAN_LIMIT:
        want = limit - len(found) + 20
        start = "-inf" if lo is None else lo
        rows = await redis.zrangebyscore(key, start, hi, start=skip, num=want, withscores=True)
        entries = [(m.decode(), int(s)) for m, s in rows]
        # the cursor's own score is read again (ties): skip what the cursor has passed
        fresh = [(m, s) for m, s in entries if lo is None or s > lo or m > last]
        scanned += len(entries)
        for view, score, member in await _checked(store, key, fresh, f, now):
            lo, last = score, member
            if view is not None:
                found.append(view)
                if len(found) == limit:
                    return found, encode_cursor(lo, last)
        if len(entries) < want:
            return found, None
        skip = skip + len(entries) if not fresh else 0
    return found, (encode_cursor(lo, last) if lo is not None else None)


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
