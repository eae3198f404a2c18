"""Draining in the store, on every backend: the mark, what heartbeats and the workers list say
of it, and what a new registration or a deregistration does to it."""

from __future__ import annotations

import asyncio

from orchestrator.storage.redis_store import RedisStore
from orchestrator.storage.worker_registry import DRAIN_COMMAND
from tests.storage.commands import command_subscription


async def test_a_drain_marks_a_live_worker_until_it_deregisters(store: RedisStore) -> None:
    await store.register_worker("w1", {"worker_id": "w1"})
    await store.register_worker("w2", {"worker_id": "w2"})
    assert not await store.drain_worker("ghost", 60.0)

    assert await store.drain_worker("w1", 60.0)
    assert await store.drain_worker("w1", 60.0)  # twice: the same

    assert await store.draining_workers() == {"w1"}
    assert (await store.heartbeat("w1", None)).draining
    assert not (await store.heartbeat("w2", None)).draining
    live = {info["worker_id"]: info["draining"] for info, _ in await store.live_workers(60.0)}
    assert live == {"w1": True, "w2": False}

    await store.deregister_worker("w1")
    assert await store.draining_workers() == set()
    assert not (await store.heartbeat("w1", None)).known
    assert [info["worker_id"] for info, _ in await store.live_workers(60.0)] == ["w2"]
    assert not await store.drain_worker("w1", 60.0)


async def test_a_new_registration_under_a_drained_id_is_not_draining(store: RedisStore) -> None:
    await store.register_worker("w1", {})
    assert await store.drain_worker("w1", 60.0)

    await store.register_worker("w1", {})

    assert await store.draining_workers() == set()
    assert not (await store.heartbeat("w1", None)).draining


async def test_a_worker_silent_past_the_ttl_cannot_be_drained(store: RedisStore) -> None:
    await store.register_worker("w1", {})
    assert not await store.drain_worker("w1", 0.0)


async def test_a_drain_is_published_to_the_worker_and_to_every_process(
    store: RedisStore,
) -> None:
    await store.register_worker("w1", {})
    commands = await command_subscription(store, "w1")
    pubsub = store.redis.pubsub()
    await pubsub.subscribe(store.keys.drain_channel)
    try:
        assert await store.drain_worker("w1", 60.0)
        got: dict[bytes, bytes] = {}
        async with asyncio.timeout(5):
            while len(got) < 2:
                for source in (commands, pubsub):
                    message = await source.get_message(ignore_subscribe_messages=True, timeout=0.2)
                    if message is not None:
                        got[message["channel"]] = message["data"]
    finally:
        await pubsub.aclose()
        await commands.aclose()
    assert got == {
        store.keys.command_channel("w1").encode(): DRAIN_COMMAND,
        store.keys.drain_channel.encode(): b"w1",
    }
