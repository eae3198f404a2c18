"""Rate limits on /api: per client and per IP, 429 with Retry-After, failing open."""

from __future__ import annotations

import logging

import pytest
import redis.asyncio as aioredis
from aiohttp import ClientResponse

from orchestrator.config import ClientToken, RateLimit
from orchestrator.storage.redis_store import RedisStore
from tests.api.conftest import (
    CLIENT_TOKEN,
    OTHER_CLIENT_TOKEN,
    Api,
    MakeApi,
    assert_error,
    client_headers,
    worker_headers,
)
from tests.helpers import RedisProcess

SLOW = RateLimit(rate_per_s=0.2, burst=2)
"""Two at once, then one every 5 s: no test runs long enough to see a refill."""

TINY = {"ip_rate_per_s": 0.2, "ip_burst": 1}


def with_slow_alice() -> tuple[ClientToken, ...]:
    return (ClientToken("alice", CLIENT_TOKEN, SLOW), ClientToken("bob", OTHER_CLIENT_TOKEN))


async def list_jobs(api: Api, token: str = CLIENT_TOKEN, **headers: str) -> ClientResponse:
    """A limited request that creates nothing: cancelling a job that does not exist (reads
    are not limited at all)."""
    return await api.client.post(
        "/api/v1/jobs/no-such-job/cancel", headers={**client_headers(token), **headers}
    )


async def test_a_client_over_its_limit_gets_429_with_retry_after(make_api: MakeApi) -> None:
    api = await make_api(clients=with_slow_alice())
    for _ in range(SLOW.burst):
        assert (await list_jobs(api)).status == 404

    resp = await api.client.post(
        "/api/v1/greeting", json={"initial_data": {"name": "Ada"}}, headers=client_headers()
    )

    err = await assert_error(resp, 429, "RATE_LIMITED")
    retry_after = int(resp.headers["Retry-After"])
    assert 1 <= retry_after <= 5
    assert err["details"] == {"retry_after_s": retry_after, "limit": "client"}
    assert resp.headers["X-Request-Id"]
    assert await api.store.client_jobs("alice", 0, 10) == []  # refused: no job was made


async def test_another_client_is_not_affected(make_api: MakeApi) -> None:
    api = await make_api(clients=with_slow_alice())
    for _ in range(SLOW.burst + 1):
        await list_jobs(api)

    statuses = [(await list_jobs(api, OTHER_CLIENT_TOKEN)).status for _ in range(10)]

    assert (await list_jobs(api)).status == 429
    assert statuses == [404] * 10


async def test_clients_behind_one_ip_share_its_limit(make_api: MakeApi) -> None:
    api = await make_api(ip_rate_per_s=0.2, ip_burst=2)
    assert (await list_jobs(api)).status == 404
    assert (await list_jobs(api, OTHER_CLIENT_TOKEN)).status == 404

    resp = await list_jobs(api)

    err = await assert_error(resp, 429, "RATE_LIMITED")
    assert err["details"]["limit"] == "ip"
    await assert_error(await list_jobs(api, OTHER_CLIENT_TOKEN), 429, "RATE_LIMITED")


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(make_api: MakeApi) -> None:
    api = await make_api(**TINY)
    assert (await list_jobs(api, **{"X-Forwarded-For": "10.0.0.1"})).status == 404

    resp = await list_jobs(api, **{"X-Forwarded-For": "10.0.0.2"})

    await assert_error(resp, 429, "RATE_LIMITED")  # both counted as 127.0.0.1


async def test_forwarded_for_names_the_client_behind_a_trusted_proxy(make_api: MakeApi) -> None:
    api = await make_api(**TINY, trusted_proxies=("127.0.0.0/8",))

    first = await list_jobs(api, **{"X-Forwarded-For": "10.0.0.1"})
    other_ip = await list_jobs(api, **{"X-Forwarded-For": "10.0.0.2"})
    again = await list_jobs(api, **{"X-Forwarded-For": "10.0.0.1"})
    # the nearest untrusted hop counts; what the client wrote to its left does not
    forged = await list_jobs(api, **{"X-Forwarded-For": "198.51.100.7, 10.0.0.3"})
    forged_again = await list_jobs(api, **{"X-Forwarded-For": "203.0.113.9, 10.0.0.3"})

    assert [first.status, other_ip.status, again.status] == [404, 404, 429]
    assert [forged.status, forged_again.status] == [404, 429]


async def test_workers_and_public_routes_are_not_limited(make_api: MakeApi) -> None:
    api = await make_api(client_rate_per_s=0.2, client_burst=1, **TINY)

    statuses = [(await api.client.get("/_public/status")).status for _ in range(5)]
    for i in range(5):
        await api.register(f"w{i}")
    polls = [(await api.poll("w0", timeout=0)).status for _ in range(3)]
    heartbeat = await api.client.patch("/_worker/workers/w0", headers=worker_headers())

    assert statuses == [200] * 5
    assert polls == [204] * 3
    assert heartbeat.status == 200
    assert [(await list_jobs(api)).status for _ in range(2)] == [404, 429]


async def test_reads_are_not_limited(make_api: MakeApi) -> None:
    api = await make_api(client_rate_per_s=0.2, client_burst=1, **TINY)

    reads = [
        (await api.client.get("/api/v1/jobs", headers=client_headers())).status for _ in range(5)
    ]

    assert reads == [200] * 5
    assert [(await list_jobs(api)).status for _ in range(2)] == [404, 429]


async def test_limits_can_be_turned_off(make_api: MakeApi) -> None:
    api = await make_api(rate_limits_enabled=False, client_rate_per_s=0.2, client_burst=1)

    statuses = [(await list_jobs(api)).status for _ in range(5)]

    assert statuses == [404] * 5
    assert await api.store.redis.keys(f"{api.store.keys.prefix}:{{rl:*") == []


async def test_an_unknown_token_costs_no_bucket(make_api: MakeApi) -> None:
    api = await make_api(**TINY)

    resp = await list_jobs(api, token="nobody")

    await assert_error(resp, 401, "UNAUTHORIZED")
    assert (await list_jobs(api)).status == 404


async def test_the_limiter_fails_open_when_redis_is_down(
    make_api: MakeApi, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisProcess().start()
    try:
        store = RedisStore(aioredis.Redis.from_url(server.url), prefix)
        api = await make_api(store=store, client_rate_per_s=0.2, client_burst=1)
        assert (await list_jobs(api)).status == 404  # the one request the bucket holds
        server.kill()

        with caplog.at_level(logging.WARNING, logger="orchestrator.api.ratelimit"):
            # needs no storage: served, where a working limiter would have said 429
            catalog = await api.client.get("/api/v1/blueprints", headers=client_headers())
            jobs = await list_jobs(api)

        assert catalog.status == 200
        await assert_error(jobs, 503, "STORAGE_UNAVAILABLE")  # the handler's error, not a 500
        assert "letting requests through" in caplog.text
    finally:
        server.stop()


async def test_tokens_come_from_redis_in_batches(make_api: MakeApi) -> None:
    api = await make_api(client_rate_per_s=1000, client_burst=2000)
    for _ in range(5):
        assert (await list_jobs(api)).status == 404

    key = api.store.keys.rate_bucket("client", "alice")
    tokens = float(await api.store.redis.hget(key, "tokens"))
    # one batch of 20 (a fiftieth of the rate) served all five requests
    assert 1980 <= tokens < 1981
