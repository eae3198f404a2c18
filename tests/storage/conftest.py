"""The store contract runs on three backends: one Redis, the embedded store, a live Cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from orchestrator.storage.cluster import cluster_client
from orchestrator.storage.embedded import embedded_store
from orchestrator.storage.pool import QuickPool
from orchestrator.storage.redis_store import RedisStore
from tests.cluster.live import LiveCluster
from tests.conftest import delete_prefix


def retrying_client(
    redis_url: str, pool_class: type[BlockingConnectionPool] = QuickPool
) -> aioredis.Redis:
    """A client on a pool of two connections whose commands, found on a dead connection,
    are tried once more on a new one (as the server's pool does, without its backoff)."""
    pool = pool_class.from_url(
        redis_url,
        max_connections=2,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
    )
    return aioredis.Redis(connection_pool=pool)


async def delete_cluster_prefix(client: RedisCluster, prefix: str) -> None:
    # SCAN on a cluster client walks every primary; DELETE is split per slot
    keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
    if keys:
        await client.delete(*keys)


@pytest.fixture(params=["redis", "embedded", "cluster"])
async def store(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[RedisStore]:
    """The same ``RedisStore`` over real Redis, the embedded fakeredis server and a live
    3-primary Redis Cluster."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        built = RedisStore(aioredis.Redis.from_url(url), prefix)
    elif request.param == "cluster":
        live: LiveCluster = request.getfixturevalue("redis_cluster")
        built = RedisStore(cluster_client(live.url, 16), prefix)  # type: ignore[arg-type]
    else:
        built = embedded_store(prefix)
    await built.scripts.load(built.redis)
    try:
        yield built
    finally:
        if request.param == "cluster":
            await delete_cluster_prefix(built.redis, prefix)
        await built.close()
        if request.param == "redis":
            await delete_prefix(url, prefix)


@pytest.fixture
async def cluster_store(redis_cluster: LiveCluster, prefix: str) -> AsyncIterator[RedisStore]:
    """A ``RedisStore`` on the live Cluster alone, for what only Cluster can meet."""
    built = RedisStore(cluster_client(redis_cluster.url, 16), prefix)  # type: ignore[arg-type]
    await built.scripts.load(built.redis)
    try:
        yield built
    finally:
        await delete_cluster_prefix(built.redis, prefix)
        await built.close()
