"""``QuickPool``: a free connection is handed over at once, and the blocking pool's rules still
hold: a command waits while all are busy, and gets the next one freed."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from redis.asyncio import BlockingConnectionPool

from orchestrator.storage.pool import QuickPool
from tests.helpers import wait_for
from tests.storage.conftest import retrying_client


async def test_the_installed_redis_py_has_the_quick_path(redis_url: str) -> None:
    # When an upgrade renames what it relies on, this fails: the pool still works (the
    # blocking pool's path), but the CPU it saved is spent again.
    pool = QuickPool.from_url(redis_url, max_connections=2)
    assert pool.quick_path()
    await pool.disconnect()


@pytest.mark.parametrize("pool_class", [QuickPool, BlockingConnectionPool])
async def test_commands_run_and_a_killed_connection_is_replaced(
    redis_url: str, pool_class: type[BlockingConnectionPool]
) -> None:
    client = retrying_client(redis_url, pool_class)
    try:
        assert await client.ping()
        my_id = await client.client_id()
        async with aioredis.Redis.from_url(redis_url) as other:
            await other.client_kill_filter(_id=my_id)
        # the next command finds the pooled connection dead and goes again on a new one
        assert await client.ping()
        assert await client.client_id() != my_id
    finally:
        await client.aclose()


async def test_a_command_waits_while_every_connection_is_busy(redis_url: str) -> None:
    pool = QuickPool.from_url(redis_url, max_connections=2, timeout=5)
    try:
        held = [await pool.get_connection(), await pool.get_connection()]
        waiter = asyncio.create_task(pool.get_connection())
        await wait_for(lambda: bool(pool._condition._waiters), 5.0, what="the waiter to wait")
        assert not waiter.done()

        await pool.release(held[0])

        assert await asyncio.wait_for(waiter, 5) is held[0]
    finally:
        await pool.disconnect()
