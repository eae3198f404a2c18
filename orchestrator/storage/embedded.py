"""The embedded store: the same ``RedisStore`` over an in-process fakeredis server.

Nothing is written to disk: a restart loses every job. Good for a first try and for tests of
the embedded mode, not for production.
"""

from __future__ import annotations

import fakeredis

from orchestrator.storage.redis_store import RedisStore


def embedded_store(prefix: str) -> RedisStore:
    # One FakeServer per store: its clients (the main one and the pub/sub one) share the data.
    redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    return RedisStore(redis, prefix, embedded=True)
