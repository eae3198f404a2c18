"""Shared fixtures: a private Redis server per test session, a key prefix per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis

from orchestrator.storage.embedded import embedded_store
from orchestrator.storage.redis_store import RedisStore
from tests.cluster.live import redis_cluster  # noqa: F401  (one live cluster per session)
from tests.helpers import RedisProcess


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """``ORCH_TEST_REDIS_URL`` if set, else a redis-server of our own on a free port."""
    given = os.environ.get("ORCH_TEST_REDIS_URL")
    if given:
        yield given
        return
    server = RedisProcess().start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


async def delete_prefix(url: str, prefix: str) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture(params=["redis", "embedded"])
async def store(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[RedisStore]:
    """The same ``RedisStore`` over real Redis and over the embedded fakeredis server."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        built = RedisStore(aioredis.Redis.from_url(url), prefix)
    else:
        built = embedded_store(prefix)
    await built.scripts.load(built.redis)
    try:
        yield built
    finally:
        await built.close()
        if request.param == "redis":
            await delete_prefix(url, prefix)
