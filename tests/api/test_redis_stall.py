"""A Redis that stops answering without closing its connections (here: SIGSTOP) gets requests
answered 503 in seconds, not held for as long as it stays silent; and it is used again once
it answers (``storage/stall_watch.py``)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator

import pytest

from orchestrator.config import Settings
from orchestrator.server import build_store
from orchestrator.storage import stall_watch
from tests.api.conftest import MakeApi, assert_error
from tests.helpers import RedisProcess


@pytest.fixture
def paused_redis() -> Iterator[RedisProcess]:
    server = RedisProcess().start()
    yield server
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGCONT)
    server.kill()


async def test_a_silent_redis_gets_503_in_seconds_then_is_used_again(
    make_api: MakeApi, paused_redis: RedisProcess, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stall_watch, "STALL_S", 1.0)
    monkeypatch.setattr(stall_watch, "CHECK_S", 0.1)
    # The orchestrator's own pool: no per-command timeout, the watch instead.
    store = build_store(Settings.from_flat(redis_url=paused_redis.url, key_prefix=prefix))
    api = await make_api(store=store)
    assert (await api.client.get("/_public/status")).status == 200
    assert paused_redis.proc is not None
    os.kill(paused_redis.proc.pid, signal.SIGSTOP)
    started = time.monotonic()
    # Without the watch this request waits for as long as Redis is stopped: here, forever.
    resp = await asyncio.wait_for(api.client.get("/_public/status"), 20)
    await assert_error(resp, 503, "STORAGE_UNAVAILABLE")
    assert time.monotonic() - started < 20
    os.kill(paused_redis.proc.pid, signal.SIGCONT)
    deadline = time.monotonic() + 20
    while (await api.client.get("/_public/status")).status != 200:
        assert time.monotonic() < deadline, "Redis answers again, the orchestrator does not"
        await asyncio.sleep(0.05)


async def test_an_idle_process_sends_no_pings(
    make_api: MakeApi, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pub/sub connection stays taken out of the pool for good: it is no command waiting
    for an answer, and an idle process does not ping for it."""
    monkeypatch.setattr(stall_watch, "CHECK_S", 0.05)
    server = RedisProcess().start()
    try:
        store = build_store(Settings.from_flat(redis_url=server.url, key_prefix=prefix))
        api = await make_api(store=store)
        assert (await api.client.get("/_public/status")).status == 200
        await store.redis.config_resetstat()
        # twenty checks' time: a watch that counted the pub/sub connection pings each time
        await asyncio.sleep(20 * stall_watch.CHECK_S)
        stats = await store.redis.info("commandstats")
        assert stats.get("cmdstat_ping", {"calls": 0})["calls"] <= 3, stats
    finally:
        server.kill()
