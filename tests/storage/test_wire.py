"""``Wire``: the hot round trips sent on a pooled connection without redis-py's per-command
machinery give what redis-py's pipeline gives, keep the connection in step after an error
reply, and survive a dead connection and a Redis that forgot its scripts."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from orchestrator.storage import wire as wire_module
from orchestrator.storage.embedded import embedded_store
from orchestrator.storage.resp_link import RespLink
from orchestrator.storage.wire import Batch, Command, Wire, as_dict, pack, pack_in_python
from tests.conftest import delete_prefix
from tests.helpers import free_port, wait_for
from tests.storage.conftest import retrying_client


@pytest.fixture
async def client(redis_url: str, prefix: str) -> AsyncIterator[aioredis.Redis]:
    redis = retrying_client(redis_url)
    try:
        yield redis
    finally:
        await redis.aclose()
        await delete_prefix(redis_url, prefix)


PACKERS = [pack, pack_in_python]
"""hiredis's packer (the ``fast`` extra, which the tests install) and the one without it."""


@pytest.mark.parametrize("packer", PACKERS)
def test_packs_as_redis_py_packs(packer: Callable[[list[Command]], bytes]) -> None:
    args = ("EVALSHA", "abc", 2, "k:é", b"\x00\xffraw", 1.5, 1e-7, -3, 10**20, "", 0.1)
    expected = b"".join(Connection().pack_command(*args))
    got = packer([args, list(args[:2])])
    assert got == expected + b"".join(Connection().pack_command(*args[:2]))


@pytest.mark.parametrize("packer", PACKERS)
def test_packs_floats_as_redis_py_packs(packer: Callable[[list[Command]], bytes]) -> None:
    rng = random.Random(7)
    numbers = [rng.random() * 10 ** rng.randint(-8, 20) * rng.choice((1, -1)) for _ in range(500)]
    numbers += [time.time() + rng.random() for _ in range(500)]
    expected = b"".join(Connection().pack_command("ZADD", *numbers))
    assert packer([("ZADD", *numbers)]) == expected


@pytest.mark.parametrize("packer", PACKERS)
def test_refuses_what_redis_py_refuses(packer: Callable[[list[Command]], bytes]) -> None:
    with pytest.raises(TypeError):
        packer([("SET", "k", True)])
    with pytest.raises(TypeError):
        packer([("SET", "k", None)])  # type: ignore[list-item]


def test_hiredis_packs_when_installed() -> None:
    assert wire_module.C_PACKER  # the tests run with the ``fast`` extra


@pytest.mark.parametrize("direct", [True, False])
async def test_replies_in_order_an_error_in_its_place(
    client: aioredis.Redis, prefix: str, direct: bool
) -> None:
    wire = Wire(client, direct=direct)
    key, hashed = f"{prefix}:s", f"{prefix}:h"
    batch = Batch()
    batch.zadd(f"{prefix}:z", {"a": 1.5, "b": 2})
    batch.sadd(f"{prefix}:set", "x", "y")
    batch.zrem(f"{prefix}:z", "a")
    batch.publish(f"{prefix}:channel", b"hi")
    replies = await wire.run([("SET", key, "v"), ("HGET", key, "f"), ("GET", key), *batch.commands])
    assert replies[0] in (b"OK", True)
    assert isinstance(replies[1], ResponseError)  # WRONGTYPE, read and kept in its place
    assert replies[2:] == [b"v", 2, 2, 1, 0]
    # the connection is still in step: the next exchange reads its own replies
    await client.hset(hashed, mapping={"f": "1", "g": b"\x00"})
    assert as_dict(await wire.one("HGETALL", hashed)) == {b"f": b"1", b"g": b"\x00"}
    assert as_dict(await wire.one("HGETALL", f"{prefix}:none")) == {}
    with pytest.raises(ResponseError):
        await wire.one("HGET", key, "f")


async def test_a_killed_connection_is_replaced(
    client: aioredis.Redis, redis_url: str, prefix: str
) -> None:
    wire = Wire(client, direct=True)
    first = await wire.one("CLIENT", "ID")
    other = aioredis.Redis.from_url(redis_url)
    try:
        assert await other.client_kill_filter(_id=first) == 1
    finally:
        await other.aclose()
    assert await wire.one("ECHO", prefix) == prefix.encode()
    assert await wire.one("CLIENT", "ID") != first


@pytest.mark.parametrize("direct", [True, False])
async def test_a_script_redis_does_not_know_is_loaded(client: aioredis.Redis, direct: bool) -> None:
    # a body no one has loaded: its EVALSHA meets NOSCRIPT, as after a Redis restart
    script = client.register_script(f"return {{ARGV[1], '{uuid.uuid4().hex}'}}")
    assert not (await client.script_exists(script.sha))[0]
    reply = await Wire(client, direct=direct).script(script, [], ["one"])
    assert reply[0] == b"one"


async def test_the_embedded_store_takes_the_pipeline(prefix: str) -> None:
    store = embedded_store(prefix)
    try:
        await store.redis.hset(f"{prefix}:h", mapping={"f": "1"})
        assert as_dict(await store.wire.one("HGETALL", f"{prefix}:h")) == {b"f": b"1"}
    finally:
        await store.close()


async def test_round_trips_asked_together_leave_together(
    client: aioredis.Redis, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wire = Wire(client, direct=True)
    writes: list[bytes] = []
    send = RespLink.send

    def counted(link: RespLink, packed: bytes) -> None:
        writes.append(packed)
        send(link, packed)

    key = f"{prefix}:s"
    await client.set(key, "v")
    monkeypatch.setattr(RespLink, "send", counted)
    asks = [
        [("ECHO", "a")],
        [("GET", key), ("HGET", key, "f"), ("ECHO", "b")],  # an error reply in the middle
        [("INCR", f"{prefix}:n")],
        [("ECHO", "c"), ("INCR", f"{prefix}:n")],
    ]
    replies = await asyncio.gather(*(wire.run(commands) for commands in asks))
    assert len(writes) == 1  # one write for the four of them
    assert replies[0] == [b"a"]
    assert replies[1][0] == b"v" and isinstance(replies[1][1], ResponseError)
    assert replies[1][2] == b"b"
    assert replies[2] == [1]
    assert replies[3] == [b"c", 2]
    # one asked on a later pass of the loop goes in a batch of its own
    assert await wire.one("ECHO", "d") == b"d"
    assert len(writes) == 2


async def test_a_round_trip_does_not_wait_for_the_one_before(
    client: aioredis.Redis, prefix: str
) -> None:
    # The first round trip's replies are held back (Redis is not read) until the second has
    # been written on the same connection: pipelined, not queued behind it.
    wire = Wire(client, direct=True)
    assert await wire.one("ECHO", "open") == b"open"
    link = wire._link
    assert link is not None
    transport = link._transport
    assert transport is not None
    transport.pause_reading()
    first = asyncio.ensure_future(wire.one("INCR", f"{prefix}:n"))
    await wait_for(lambda: link.owed == 1, 5.0, what="the first round trip sent")
    second = asyncio.ensure_future(wire.one("INCR", f"{prefix}:n"))
    await wait_for(lambda: link.owed == 2, 5.0, what="the second sent behind it")
    transport.resume_reading()
    assert await first == 1
    assert await second == 2


async def test_a_caller_that_gave_up_before_its_batch_left_sends_nothing(
    client: aioredis.Redis, prefix: str
) -> None:
    wire = Wire(client, direct=True)
    counter = f"{prefix}:n"
    given_up = asyncio.ensure_future(wire.run([("INCR", counter)]))
    kept = asyncio.ensure_future(wire.run([("INCR", counter)]))
    await asyncio.sleep(0)  # both asked, the batch not yet sent
    given_up.cancel()
    assert await kept == [1]
    with pytest.raises(asyncio.CancelledError):
        await given_up
    assert await client.get(counter) == b"1"


async def test_a_batch_that_fails_fails_each_of_its_callers(
    client: aioredis.Redis, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wire = Wire(client, direct=True)

    async def refused(*args: object, **kwargs: object) -> object:
        raise RedisConnectionError("Redis is gone")

    monkeypatch.setattr(RespLink, "open", refused)
    answers = await asyncio.gather(
        wire.one("ECHO", "a"), wire.run([("ECHO", "b")]), return_exceptions=True
    )
    assert [type(a) for a in answers] == [RedisConnectionError, RedisConnectionError]
    monkeypatch.undo()
    assert await wire.one("ECHO", prefix) == prefix.encode()  # the next batch goes ahead


async def test_a_redis_that_is_down_fails_the_round_trip_in_one_line() -> None:
    wire = Wire(aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0"), direct=True)
    with pytest.raises(RedisConnectionError, match=r"^Error connecting to Redis at 127\.0\.0\.1"):
        await wire.one("PING")


def test_a_wire_outlives_the_loop_that_left_a_round_trip_asked(redis_url: str) -> None:
    wire = Wire(aioredis.Redis.from_url(redis_url), direct=True)
    closing = asyncio.new_event_loop()
    asked = closing.create_task(wire.one("ECHO", "lost"))
    closing.call_soon(closing.stop)  # asked, and the loop stops before its batch leaves
    closing.run_forever()
    assert not asked.done()
    left = asyncio.all_tasks(closing)  # the caller's, and the batch's that never ran
    for task in left:
        task.cancel()
    closing.run_until_complete(asyncio.gather(*left, return_exceptions=True))
    closing.close()

    async def ask() -> bytes:
        reply: bytes = await asyncio.wait_for(wire.one("ECHO", "kept"), 2)
        await wire._redis.aclose()
        return reply

    assert asyncio.run(ask()) == b"kept"


async def test_a_connection_known_lost_is_replaced_without_a_retry(
    redis_url: str, prefix: str
) -> None:
    # no retries at all: the next round trip opens a fresh connection rather than fail on
    # the one it knows is closed
    client = aioredis.Redis.from_url(redis_url, retry=Retry(NoBackoff(), 0))
    wire = Wire(client, direct=True)
    try:
        first = await wire.one("CLIENT", "ID")
        link = wire._link
        assert link is not None
        killer = aioredis.Redis.from_url(redis_url)
        try:
            assert await killer.client_kill_filter(_id=first) == 1
        finally:
            await killer.aclose()
        await wait_for(lambda: link.closed, 5.0, what="the wire's connection seen closed")
        assert await wire.one("ECHO", prefix) == prefix.encode()
        assert await wire.one("CLIENT", "ID") != first
    finally:
        await wire.close()
        await client.aclose()
