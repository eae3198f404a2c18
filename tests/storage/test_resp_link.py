"""The raw RESP connections (``storage/resp_link.py``) open what redis-py would open (a
password, a database, a Unix socket) and leave the rest to redis-py; the bus's pub/sub on
one (``dispatch/direct_link.py``) hears messages in order and, after losing its connection,
subscribes again and says so."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError

from orchestrator.config import Settings
from orchestrator.dispatch.bus import Bus
from orchestrator.dispatch.direct_link import DirectLink
from orchestrator.server import build_store
from orchestrator.storage.embedded import embedded_store
from orchestrator.storage.resp_link import Endpoint, RespLink, endpoint_of
from orchestrator.storage.wire import Wire
from tests.helpers import RedisProcess, wait_for

SECRET = "s3cret-pass"


@pytest.fixture
def locked_redis(tmp_path: Path) -> Iterator[tuple[RedisProcess, Path]]:
    # AF_UNIX paths are short: the test's own tmp_path may be too long for one
    socket_path = Path("/tmp") / f"resp-link-{tmp_path.name[-20:]}.sock"
    server = RedisProcess(
        extra=("--requirepass", SECRET, "--unixsocket", str(socket_path), "--unixsocketperm", "700")
    ).start()
    yield server, socket_path
    server.kill()
    socket_path.unlink(missing_ok=True)


def test_endpoints_it_opens_and_those_it_leaves_to_redis_py() -> None:
    assert endpoint_of(aioredis.Redis.from_url("redis://user:pw@10.0.0.7:6380/4")) == Endpoint(
        host="10.0.0.7",
        port=6380,
        path=None,
        username="user",
        password="pw",
        db=4,
        connect_timeout_s=None,
    )
    unix = endpoint_of(aioredis.Redis.from_url("unix:///run/redis.sock?db=2&password=pw"))
    assert unix is not None and (unix.path, unix.db, unix.password) == ("/run/redis.sock", 2, "pw")
    assert endpoint_of(aioredis.Redis.from_url("rediss://10.0.0.7:6380/0")) is None  # TLS
    assert endpoint_of(aioredis.Redis.from_url("redis://10.0.0.7", protocol=3)) is None
    assert endpoint_of(embedded_store("x").redis) is None


async def test_a_password_and_a_database_over_tcp_and_a_unix_socket(
    locked_redis: tuple[RedisProcess, Path],
) -> None:
    server, socket_path = locked_redis
    urls = [
        f"redis://:{SECRET}@127.0.0.1:{server.port}/3",
        f"unix://{socket_path}?db=2&password={SECRET}",
    ]
    for url, db in zip(urls, (3, 2), strict=True):
        client = aioredis.Redis.from_url(url)
        wire = Wire(client, direct=True)
        try:
            info = await wire.one("CLIENT", "INFO")
            assert f" db={db} ".encode() in info
            assert wire._link is not None  # its own connection, not redis-py's
            await wire.one("SET", "k", url)
            assert await client.get("k") == url.encode()  # the same database as redis-py's
        finally:
            await wire.close()
            await client.aclose()


async def test_a_wrong_password_is_refused_with_redis_own_words(
    locked_redis: tuple[RedisProcess, Path],
) -> None:
    server, _ = locked_redis
    wire = Wire(aioredis.Redis.from_url(f"redis://:wrong@127.0.0.1:{server.port}/0"), direct=True)
    with pytest.raises((AuthenticationError, ResponseError), match="(?i)password"):
        await wire.one("PING")


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    server = RedisProcess().start()
    yield server
    server.kill()


async def test_the_bus_hears_in_order_and_after_a_lost_connection_says_it_is_back(
    own_redis: RedisProcess,
) -> None:
    redis = aioredis.Redis.from_url(own_redis.url)
    bus = Bus(redis)
    assert isinstance(bus._classic, DirectLink)
    heard: list[bytes] = []
    back: list[bool] = []
    bus.on_reconnect = lambda: back.append(True)

    async def slow(data: bytes) -> None:  # handlers may await: still one message at a time
        heard.append(data)

    await bus.subscribe("ch", slow)
    bus.start()
    try:
        await _wait_subscribed(redis, "ch")
        sent = [b"m%d" % i for i in range(200)]
        async with redis.pipeline(transaction=False) as pipe:
            for message in sent:
                pipe.publish("ch", message)
            await pipe.execute()
        await wait_for(lambda: len(heard) == len(sent), 5.0, what="every message heard")
        assert heard == sent

        assert await redis.client_kill_filter(_type="pubsub") == 1
        await wait_for(lambda: back, 5.0, what="the bus back and subscribed again")
        await redis.publish("ch", b"after")
        await wait_for(lambda: heard[-1:] == [b"after"], 5.0, what="a message after the loss")
        await bus.unsubscribe("ch")
        await _wait_subscribed(redis, "ch", count=0)
    finally:
        await bus.stop()
        await redis.aclose()


async def _wait_subscribed(redis: aioredis.Redis, channel: str, count: int = 1) -> None:
    async def subscribed() -> bool:
        return bool((await redis.pubsub_numsub(channel))[0][1] == count)

    await wait_for(subscribed, 5.0, what=f"{count} subscriber(s) on {channel}")


async def test_a_redis_still_loading_is_tried_again_as_redis_py_would() -> None:
    # LOADING is an error reply redis-py raises as a connection error and retries; the wire
    # must not hand it back as if it were the command's answer.
    answers = [b"-LOADING Redis is loading the dataset in memory\r\n", b"+PONG\r\n"]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):
            writer.write(answers.pop(0) if len(answers) > 1 else answers[0])

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{port}/0", retry=Retry(NoBackoff(), 2))
    wire = Wire(client, direct=True)
    try:
        assert await wire.one("PING") == b"PONG"
        assert answers == [b"+PONG\r\n"]  # the LOADING answer was read, then tried again
    finally:
        await wire.close()
        server.close()


def test_the_wire_s_own_connection_counts_against_the_process_s_limit(redis_url: str) -> None:
    settings = Settings.from_flat(redis_url=redis_url, redis_max_connections=32)
    pool = build_store(settings).redis.connection_pool
    # 32 in all: the pub/sub connection, the wire's, the stall watch's ping and 29 pooled
    assert pool.max_connections == 29


async def test_a_connection_lost_while_it_opens_fails_the_open_and_nothing_else() -> None:
    # Redis hangs up on the AUTH: the open raises, and the "lost" callback meant for an open
    # connection does not run (the bus would start a second reconnect beside its own)
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    endpoint = Endpoint("127.0.0.1", port, None, None, "pw", 0, 5.0)
    lost: list[bool] = []
    try:
        with pytest.raises(RedisConnectionError):
            await RespLink.open(endpoint, on_lost=lambda: lost.append(True))
        await asyncio.sleep(0)
        assert lost == []
    finally:
        server.close()
