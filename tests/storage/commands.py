"""Subscribing to a worker's command channel as the bus does: sharded on Cluster."""

from __future__ import annotations

from typing import Any

from redis.asyncio.cluster import RedisCluster

from orchestrator.storage.cluster import shard_client
from orchestrator.storage.redis_store import RedisStore


async def command_subscription(store: RedisStore, worker_id: str) -> Any:
    """A pub/sub whose subscription to the worker's channel is confirmed active."""
    channel = store.keys.command_channel(worker_id)
    if isinstance(store.redis, RedisCluster):
        pubsub = (await shard_client(store.redis, channel)).pubsub()
        await pubsub.ssubscribe(channel)
    else:
        pubsub = store.redis.pubsub()
        await pubsub.subscribe(channel)
    confirmed = await pubsub.get_message(timeout=2.0)
    assert confirmed is not None and confirmed["type"] in ("subscribe", "ssubscribe")
    return pubsub
