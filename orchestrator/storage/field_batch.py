"""``FieldBatch``: concurrent reads of fields of one hash, sent as one ``HMGET``.

Every long-poll reads its worker's record (when its cached copy is old), and ten thousand
workers polling at once would each take a pooled connection for one ``HGET``: the pool runs
dry and polls fail waiting for it. Reads that come in the same turn of the event loop go out
together instead, one command and one connection for the lot.
"""

from __future__ import annotations

import asyncio
from typing import Any

MAX_FIELDS = 1000
"""Fields in one ``HMGET``, so that one reply stays small."""


class FieldBatch:
    def __init__(self, redis: Any, key: str) -> None:
        self.redis = redis
        self.key = key
        self._pending: list[tuple[str, asyncio.Future[bytes | None]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def get(self, field: str) -> bytes | None:
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        if not self._pending:
            # after the other coroutines ready in this turn have added theirs
            task = asyncio.create_task(self._send())
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        self._pending.append((field, future))
        return await future

    async def _send(self) -> None:
        batch, self._pending = self._pending, []
        for start in range(0, len(batch), MAX_FIELDS):
            part = batch[start : start + MAX_FIELDS]
            try:
                values = await self.redis.hmget(self.key, [f for f, _ in part])
            except Exception as exc:
                for _, future in part:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), value in zip(part, values, strict=True):
                if not future.done():  # its caller may have given up (cancelled)
                    future.set_result(value)
