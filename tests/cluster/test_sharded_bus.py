"""The bus's sharded subscription (worker commands) follows its slot to a new primary."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from orchestrator.dispatch.bus import Bus
from orchestrator.storage.cluster import cluster_client
from orchestrator.storage.keys import Keys
from tests.cluster.live import LiveCluster, _command, start_cluster
from tests.helpers import wait_for


@pytest.fixture
def own_cluster() -> Iterator[LiveCluster]:
    """A failover changes the topology: a cluster of its own, not the session's."""
    yield from start_cluster()


async def test_worker_commands_follow_a_manual_failover_and_are_counted_exactly(
    own_cluster: LiveCluster,
) -> None:
    """``CLUSTER FAILOVER TAKEOVER``: the old primary, now a replica, ends the sharded subscription
    (``sunsubscribe``); the bus subscribes on the new primary, and ``SPUBLISH`` there counts
    it again."""
    redis = cluster_client(own_cluster.url, 4)
    channel = Keys("t").command_channel("w1")
    bus = Bus(redis)
    got: list[bytes] = []
    resubscribed = asyncio.Event()
    bus.on_reconnect = resubscribed.set
    try:
        await redis.exists(channel)
        await bus.subscribe(channel, got.append, sharded=True)
        bus.start()
        assert await redis.spublish(channel, b"before") == 1
        await wait_for(lambda: got == [b"before"], 5, "the command before the failover")

        owner = int(redis.get_node_from_key(channel).port)  # type: ignore[union-attr]
        replica = own_cluster.replica_of(owner)
        assert _command(replica, "CLUSTER", "FAILOVER", "TAKEOVER").startswith("+OK")
        own_cluster.wait_promoted(replica, 10)
        await asyncio.wait_for(resubscribed.wait(), 10)

        assert await redis.spublish(channel, b"after") == 1
        await wait_for(lambda: got == [b"before", b"after"], 5, "the command after it")
    finally:
        await bus.stop()
        await redis.aclose()
