"""``Profiles``: what each worker offers (skills, tags, labels), kept in memory so that a
long-poll costs no Redis read.

A copy is taken when a worker registers, or a heartbeat changes what it offers, on this
process; otherwise its first poll here reads the record (batched: ``FieldBatch``). It is kept
true by announcements, not by age: every process that changes a worker's record (a
registration, a heartbeat changing its skills, tags or labels, a deregistration) publishes the
worker's id on ``keys.workers_channel`` (``storage/worker_registry.py``), and every process
forgets its copy (``changed``), so the worker's next poll reads the record again, and a
deregistered worker's poll is answered ``WORKER_NOT_REGISTERED`` at once; so is an expired
one's, once a process has deleted its record (``live_workers`` announces those too).
Announcements are lost only while the pub/sub connection is down: when it is back, every copy
is forgotten (``forget_all``).

Besides, every ``REFRESH_S`` the copies polls used since the last refresh are read again in
one batch (``refresh``: anything an announcement missed), and
those no poll used for ``DROP_AFTER`` refreshes in a row are dropped, so that memory follows
the workers that poll this process (a worker polling every 30 s, or a fleet's polls spread
over a burst, must not lose its copy between two of its polls). Before, a copy
over 10 s old was read again by the poll itself: for a fleet polling every 20-30 s, one read
in every poll.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from orchestrator.dispatch.waiters import WorkerProfile

REFRESH_S = 30.0
DROP_AFTER = 3

Read = Callable[[list[str]], Awaitable[list[dict[str, Any] | None]]]
"""Worker ids → their records (None: not registered), in one batch."""


def profile_of(info: dict[str, Any]) -> WorkerProfile:
    """The profile in a worker's record (its registration, as heartbeats changed it)."""
    labels = info.get("labels") or {}
    return WorkerProfile(
        info["worker_id"],
        tuple(info["supported_skills"]),
        frozenset(info.get("tags") or ()),
        frozenset((str(k), str(v)) for k, v in labels.items()),
    )


class _Copy:
    __slots__ = ("profile", "unused")

    def __init__(self, profile: WorkerProfile) -> None:
        self.profile = profile
        self.unused = 0
        """Refreshes since a poll last used it."""


class Profiles:
    def __init__(self, read: Read) -> None:
        self._read = read
        self._copies: dict[str, _Copy] = {}
        self._reading: dict[str, int] = {}
        """Worker id → reads of its record in flight."""
        self._voided: set[str] = set()
        """Ids announced changed while a read of theirs was in flight: what it brings may be
        the record from before the change, so it is not kept."""

    def __len__(self) -> int:
        return len(self._copies)

    def __contains__(self, worker_id: str) -> bool:
        return worker_id in self._copies

    def put(self, info: dict[str, Any]) -> WorkerProfile:
        """The record this process just wrote (a registration, a heartbeat's change)."""
        profile = profile_of(info)
        self._copies[profile.worker_id] = _Copy(profile)
        if profile.worker_id in self._reading:  # a read in flight may bring the record before
            self._voided.add(profile.worker_id)
        return profile

    async def get(self, worker_id: str) -> WorkerProfile | None:
        """The worker's profile; None when it is not registered."""
        copy = self._copies.get(worker_id)
        if copy is not None:
            copy.unused = 0
            return copy.profile
        return (await self._fetch([worker_id]))[0]

    def changed(self, worker_id: str) -> None:
        """Another process (or this one) changed the worker's record: read it again."""
        self._copies.pop(worker_id, None)
        if worker_id in self._reading:
            self._voided.add(worker_id)

    def forget_all(self) -> None:
        """Announcements may have been lost: read every record again."""
        self._copies.clear()
        self._voided.update(self._reading)

    async def refresh(self) -> None:
        """Read again the records of the copies used since the last refresh; drop those
        unused for ``DROP_AFTER`` refreshes."""
        used = []
        for worker_id, copy in list(self._copies.items()):
            if copy.unused >= DROP_AFTER:
                del self._copies[worker_id]
                continue
            if copy.unused == 0:
                used.append(worker_id)
            copy.unused += 1
        if used:
            await self._fetch(used)

    async def _fetch(self, worker_ids: list[str]) -> list[WorkerProfile | None]:
        _count(self._reading, worker_ids, 1)
        try:
            infos = await self._read(worker_ids)
        finally:
            _count(self._reading, worker_ids, -1)
        found: list[WorkerProfile | None] = []
        for worker_id, info in zip(worker_ids, infos, strict=True):
            profile = profile_of(info) if info is not None else None
            found.append(profile)
            if worker_id in self._voided:
                if worker_id not in self._reading:
                    self._voided.discard(worker_id)
                continue
            if profile is None:
                self._copies.pop(worker_id, None)
            else:
                copy = self._copies.get(worker_id)
                if copy is None:
                    self._copies[worker_id] = _Copy(profile)
                else:
                    copy.profile = profile
        return found


def _count(counts: dict[str, int], keys: Iterable[str], step: int) -> None:
    for key in keys:
        n = counts.get(key, 0) + step
        if n:
            counts[key] = n
        else:
            del counts[key]
