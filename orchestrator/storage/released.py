"""Lease entries of deliveries that are over for good, removed in batches.

A step that finishes a delivery removes its entry from the type's ``leases``. When that
step's write has won and does not queue the same delivery again (a result: the job moved to
another task, attempt or end), the entry names a delivery that can never be live again, so
its removal may wait: one ``ZREM`` of many members counts as one command where one a result
did. A process that dies first leaves its entries to the sweep, which drops a lease whose job
moved on at the lease's deadline, as it does after any crash (``shell/leases.py``). A write
that lost leaves its entries alone: its step is decided again on a fresh read, and should
its process die first, the lease is all that still tracks the delivery.

Not for a type with a ``max_in_flight``: its leases' size is its in-flight count, which a
claim checks and ``orchestrator_task_type_in_flight`` reports. Nor on Cluster, where the
entries go as before. An entry waits at most ``MAX_AGE_S``, or until ``BATCH`` wait.

The webhook outbox hands its finished entries here too (``webhooks/outbox.py``): any zset
member that nothing will read again before its removal can wait the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Set
from typing import Any

from orchestrator.engine.effects import Effects
from orchestrator.engine.requires import split
from orchestrator.storage.keys import Keys

log = logging.getLogger("orchestrator.storage.released")

BATCH = 64
"""Entries that make a removal go at once."""
MAX_AGE_S = 0.5
"""How long the first entry of a batch waits at most."""


def release_later(keys: Keys, effects: Effects, limited: Set[str]) -> list[tuple[str, str]]:
    """(leases key, ref) of the deliveries a step finishes whose removal may wait, if its
    write wins: of a type without ``max_in_flight``, and not queued again by the same step
    (a decline queues the same attempt, whose entry a claim may add again at once)."""
    again = {ref for _, ref, _ in effects.enqueue} | {ref for _, ref, _ in effects.delay}
    return [
        (keys.leases(q), ref)
        for q, ref in effects.release
        if ref not in again and split(q)[0] not in limited
    ]


class ReleasedLeases:
    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self._refs: dict[str, list[str]] = {}
        """Leases key → refs whose removal waits."""
        self._count = 0
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return self._count

    def add(self, entries: list[tuple[str, str]]) -> None:
        """Removes these (leases key, ref) entries soon."""
        for key, ref in entries:
            self._refs.setdefault(key, []).append(ref)
        self._count += len(entries)
        if self._count >= BATCH:
            self._start()
        elif self._count and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(MAX_AGE_S, self._start)

    def _start(self) -> None:
        task = asyncio.get_running_loop().create_task(self._flush_quietly())
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _flush_quietly(self) -> None:
        try:
            await self.flush()
        except Exception:  # the entries are left to the sweep (see the module doc)
            log.warning("could not remove released lease entries", exc_info=True)

    async def flush(self) -> None:
        """Removes every waiting entry now (one ``ZREM`` per task type)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        refs, self._refs, self._count = self._refs, {}, 0
        if not refs:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for key, members in refs.items():
                pipe.zrem(key, *members)
            await pipe.execute()

    async def close(self) -> None:
        await self.flush()
        if self._flushing:
            await asyncio.gather(*self._flushing, return_exceptions=True)
