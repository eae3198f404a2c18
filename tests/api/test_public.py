"""/_public and what every route shares: unknown routes and methods answer the JSON envelope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis

from orchestrator.storage.redis_store import RedisStore
from tests.api.conftest import Api, MakeApi, assert_error, client_headers
from tests.helpers import RedisProcess


async def test_status_ok_without_any_token(api: Api) -> None:
    resp = await api.client.get("/_public/status")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert body["status"] == "ok"


async def test_every_response_carries_a_request_id(api: Api) -> None:
    resp = await api.client.get("/_public/status")
    assert resp.headers.get("X-Request-Id")
    resp = await api.client.get("/api/v1/jobs")  # an error answer too
    await assert_error(resp, 401, "MISSING_AUTH_HEADER")
    assert resp.headers.get("X-Request-Id")


@pytest.mark.parametrize(
    "path", ["/nope", "/_public/nope", "/_public/status/extra", "/api-v1/jobs", "/"]
)
async def test_unknown_route_is_a_json_404(api: Api, path: str) -> None:
    resp = await api.client.get(path)
    err = await assert_error(resp, 404, "NOT_FOUND")
    assert path in err["message"]


async def test_unknown_api_route_with_a_token_is_a_json_404(api: Api) -> None:
    resp = await api.client.get("/api/v1/nothing/here", headers=client_headers())
    await assert_error(resp, 404, "NOT_FOUND")


async def test_wrong_method_is_a_json_405(api: Api) -> None:
    resp = await api.client.delete("/_public/status")
    await assert_error(resp, 405, "METHOD_NOT_ALLOWED")


@pytest.fixture
def doomed_redis() -> Iterator[RedisProcess]:
    """A Redis server of the test's own, which the test kills."""
    server = RedisProcess().start()
    yield server
    server.kill()


async def test_status_is_503_when_storage_does_not_answer(
    make_api: MakeApi, doomed_redis: RedisProcess, prefix: str
) -> None:
    store = RedisStore(aioredis.Redis.from_url(doomed_redis.url), prefix)
    api = await make_api(store=store)
    assert (await api.client.get("/_public/status")).status == 200
    doomed_redis.kill()
    resp = await api.client.get("/_public/status")
    assert resp.status == 503
    body = await resp.json()
    assert body["error"]["code"] == "STORAGE_UNAVAILABLE"


async def test_status_503_uses_the_error_envelope(
    make_api: MakeApi, doomed_redis: RedisProcess, prefix: str
) -> None:
    store = RedisStore(aioredis.Redis.from_url(doomed_redis.url), prefix)
    api = await make_api(store=store)
    doomed_redis.kill()
    resp = await api.client.get("/_public/status")
    await assert_error(resp, 503, "STORAGE_UNAVAILABLE")


async def test_api_routes_answer_503_not_500_when_storage_is_down(
    make_api: MakeApi, doomed_redis: RedisProcess, prefix: str
) -> None:
    store = RedisStore(aioredis.Redis.from_url(doomed_redis.url), prefix)
    api = await make_api(store=store)
    doomed_redis.kill()
    resp = await api.client.post(
        "/api/v1/greeting", json={"initial_data": {"name": "Ada"}}, headers=client_headers()
    )
    await assert_error(resp, 503, "STORAGE_UNAVAILABLE")
