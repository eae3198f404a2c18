"""The first attempt of a delivery leaves with the transition that owes it, from the process
that made the commit; the outbox keeps the entry until a 2xx, and the sweep is for retries.

Tests that must tell the immediate path from the sweep run with ``sweep_interval_s`` = 30 and
first wait for the sweep the app runs as it starts (``slow_sweep_app``): the next one is 30 s
away, so whatever arrives before that, well inside the tests' deadlines, was not sent by a
sweep.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from orchestrator.storage import released
from orchestrator.webhooks.outbox import Outbox
from tests.api.conftest import Api
from tests.e2e.conftest import CLIENT_TOKEN, Cluster
from tests.helpers import wait_for
from tests.webhooks.conftest import SECRET, MakeApp, Receiver, outbox_entries
from tests.webhooks.test_restart import outbox

HOLDING = {"webhook_timeout_s": 30.0}
"""Held requests must not time out (and free their slots) during a test."""
SENTINEL = "not json"


async def slow_sweep_app(make_app: MakeApp, redis_url: str, prefix: str, **settings: Any) -> Api:
    """An app whose webhook sweep runs every 30 s, once its first sweep has run: that sweep
    drops a malformed entry put in the outbox before the app starts."""
    r = aioredis.Redis.from_url(redis_url)
    key = f"{prefix}:{{webhooks}}:outbox"
    try:
        await r.zadd(key, {SENTINEL: 0})
        api = await make_app(sweep_interval_s=30.0, **settings)
        await wait_for(lambda: _without(r, key), what="the first webhook sweep")
    finally:
        await r.aclose()
    return api


async def _without(r: aioredis.Redis, key: str) -> bool:
    return SENTINEL.encode() not in await r.zrange(key, 0, -1)


async def _empty(api: Api) -> bool:
    return await outbox_entries(api) == []


async def test_a_delivery_arrives_long_before_the_next_sweep(
    make_app: MakeApp, redis_url: str, prefix: str, receiver: Receiver
) -> None:
    api = await slow_sweep_app(make_app, redis_url, prefix)

    job_id = await api.create({"name": ""}, webhook_url=receiver.url)  # fails at creation

    [delivery] = await receiver.wait_delivered(1, timeout=10)
    assert delivery.verified
    assert delivery.body["job_id"] == job_id
    assert delivery.body["event"] == "job.failed"
    assert delivery.headers["X-Webhook-Attempt"] == "1"


async def test_the_entry_stays_while_the_first_attempt_is_out_and_goes_on_a_2xx(
    make_app: MakeApp, redis_url: str, prefix: str
) -> None:
    receiver = await Receiver(gate=asyncio.Event()).start()
    try:
        api = await slow_sweep_app(make_app, redis_url, prefix, **HOLDING)
        job_id = await api.create({"name": ""}, webhook_url=receiver.url)
        await receiver.wait_requests(1)

        # Durable while the POST is out, and not due yet: no sweep may send it meanwhile.
        [(entry, due)] = await outbox_entries(api)
        assert entry is not None and entry.job_id == job_id and entry.attempt == 1
        assert due > time.time()

        assert receiver.gate is not None
        receiver.gate.set()
        await wait_for(lambda: _empty(api), what="the outbox to empty after the 2xx")
        assert len(receiver.requests) == 1
    finally:
        await receiver.stop()


async def test_delivered_entries_leave_together_held_until_then(
    make_app: MakeApp,
    redis_url: str,
    prefix: str,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = await slow_sweep_app(make_app, redis_url, prefix)
    monkeypatch.setattr(released, "MAX_AGE_S", 60.0)  # the test says when they go
    await api.store.released.flush()
    own_zrems: list[object] = []
    zrem = api.store.redis.zrem

    async def counted(name: Any, *members: Any) -> Any:
        own_zrems.append(name)
        return await zrem(name, *members)

    api.store.redis.zrem = counted  # type: ignore[method-assign]

    for _ in range(3):
        await api.create({"name": ""}, webhook_url=receiver.url)  # each fails at creation
    await receiver.wait_delivered(3, timeout=10)
    await wait_for(lambda: len(api.store.released) == 3, what="the three removals to wait")

    # still in the outbox, but held: a sweep now takes none of them
    assert len(await outbox_entries(api)) == 3
    assert await Outbox(api.store).take(10, 30.0) == []
    await api.store.released.flush()
    assert await outbox_entries(api) == []
    assert own_zrems == [], "an entry was removed on its own"


async def test_a_receiver_that_does_not_answer_does_not_delay_another(
    make_app: MakeApp, receiver: Receiver
) -> None:
    """More deliveries hang on one receiver than a process used to have slots for (32); the
    next job's delivery, to another receiver, still leaves at once."""
    stuck = await Receiver(gate=asyncio.Event()).start()
    try:
        api = await make_app(**HOLDING)
        for _ in range(40):
            await api.create({"name": ""}, webhook_url=stuck.url)
        await stuck.wait_requests(1)

        job_id = await api.create({"name": ""}, webhook_url=receiver.url)

        [delivery] = await receiver.wait_delivered(1, timeout=10)
        assert delivery.body["job_id"] == job_id
        assert stuck.pending > 0, "the stuck receiver's requests were answered meanwhile"
    finally:
        await stuck.stop()


async def test_deliveries_to_one_receiver_are_bounded_and_the_rest_wait_their_turn(
    make_app: MakeApp, receiver: Receiver
) -> None:
    stuck = await Receiver(gate=asyncio.Event()).start()
    try:
        api = await make_app(**HOLDING, webhook_max_per_host=3, webhook_max_in_flight=8)
        jobs = [await api.create({"name": ""}, webhook_url=stuck.url) for _ in range(10)]
        await stuck.wait_requests(3)

        live = await api.create({"name": ""}, webhook_url=receiver.url)
        [delivery] = await receiver.wait_delivered(1)
        assert delivery.body["job_id"] == live
        assert stuck.pending == 3

        assert stuck.gate is not None
        stuck.gate.set()
        await wait_for(lambda: _empty(api), what="every delivery to be made")
        assert sorted(d.body["job_id"] for d in stuck.requests) == sorted(jobs)
        assert stuck.most_pending == 3
    finally:
        await stuck.stop()


async def test_the_sweep_leaves_alone_an_entry_being_sent(
    make_app: MakeApp, receiver: Receiver
) -> None:
    """With a sweep every 20 ms, an entry whose first attempt is out is still sent once."""
    held = await Receiver(gate=asyncio.Event()).start()
    try:
        api = await make_app(**HOLDING)
        await api.create({"name": ""}, webhook_url=held.url)
        await held.wait_requests(1)

        # Sweeps are running: a failing delivery elsewhere is retried by them, several times.
        receiver.default = 500
        await api.create({"name": ""}, webhook_url=receiver.url)
        await receiver.wait_requests(4)
        assert len(held.requests) == 1

        assert held.gate is not None
        held.gate.set()
        await wait_for(lambda: _only_failing_left(api), what="the held delivery to finish")
        assert len(held.requests) == 1
    finally:
        await held.stop()


async def _only_failing_left(api: Api) -> bool:
    return len(await outbox_entries(api)) == 1


async def test_a_process_killed_mid_delivery_leaves_the_entry_to_another(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    """SIGKILL while the first attempt's POST is out: another process sends it after the hold
    (2 × webhook_timeout_s + 1)."""
    held = await Receiver(gate=asyncio.Event()).start()
    try:
        env = {"ORCH_WEBHOOK_SECRET": SECRET, "ORCH_WEBHOOK_TIMEOUT_S": "1"}
        doomed = await cluster.orchestrator(**env)
        headers = {"X-Client-Token": CLIENT_TOKEN}
        body = {"initial_data": {"n": 1}, "webhook_url": held.url}
        async with http.post(f"{doomed.url}/api/v1/echo", json=body, headers=headers) as r:
            assert r.status == 202, await r.text()
            job_id = (await r.json())["job_id"]
        async with http.post(f"{doomed.url}/api/v1/jobs/{job_id}/cancel", headers=headers) as r:
            assert r.status == 200, await r.text()
        await held.wait_requests(1)

        doomed.proc.send_signal(signal.SIGKILL)
        doomed.proc.wait()
        assert held.gate is not None
        held.gate.set()
        assert len(await outbox(cluster)) == 1, "the outbox lost the entry"

        await cluster.orchestrator(**env)

        await held.wait_requests(2, timeout=20)
        first, second = held.requests[:2]
        assert second.verified
        assert second.webhook_id == first.webhook_id
        assert second.body["event"] == "job.cancelled"
        await wait_for(lambda: _cluster_outbox_empty(cluster), what="the outbox to empty")
    finally:
        await held.stop()


async def _cluster_outbox_empty(cluster: Cluster) -> bool:
    return await outbox(cluster) == []
