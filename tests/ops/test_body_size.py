"""Bodies over ``max_body_bytes``: 413 PAYLOAD_TOO_LARGE, before any handler work."""

from __future__ import annotations

from collections.abc import AsyncIterator

from tests.api.conftest import FAST, Api, assert_error, client_headers, worker_headers

LIMIT = int(FAST["max_body_bytes"])
TOO_BIG = b"x" * (LIMIT + 1)


async def test_an_oversized_json_body_is_refused(api: Api) -> None:
    body = b'{"initial_data": {"name": "' + TOO_BIG + b'"}}'

    resp = await api.client.post(
        "/api/v1/greeting",
        data=body,
        headers={**client_headers(), "Content-Type": "application/json"},
    )

    err = await assert_error(resp, 413, "PAYLOAD_TOO_LARGE")
    assert err["details"] == {"max_bytes": LIMIT}


async def test_a_route_that_reads_no_body_refuses_one_declared_too_big(api: Api) -> None:
    job_id = await api.create()

    resp = await api.client.post(
        f"/api/v1/jobs/{job_id}/cancel", data=TOO_BIG, headers=client_headers()
    )

    await assert_error(resp, 413, "PAYLOAD_TOO_LARGE")
    assert (await api.job(job_id))["status"] != "cancelled"  # the handler never ran


async def test_worker_routes_are_bounded_too(api: Api) -> None:
    await api.register("w1")

    resp = await api.client.patch("/_worker/workers/w1", data=TOO_BIG, headers=worker_headers())

    await assert_error(resp, 413, "PAYLOAD_TOO_LARGE")


async def test_a_chunked_body_with_no_length_is_stopped_when_read(api: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"initial_data": {"name": "'
        for _ in range(4):
            yield TOO_BIG[: LIMIT // 2]
        yield b'"}}'

    resp = await api.client.post("/api/v1/greeting", data=chunks(), headers=client_headers())

    await assert_error(resp, 413, "PAYLOAD_TOO_LARGE")
    assert await api.store.client_jobs("alice", 0, 10) == []


async def test_a_body_at_the_limit_is_served(api: Api) -> None:
    padding = " " * (LIMIT - len(b'{"initial_data": {"name": "Ada"}}'))
    body = '{"initial_data": {"name": "Ada"}}' + padding

    resp = await api.client.post(
        "/api/v1/greeting",
        data=body.encode(),
        headers={**client_headers(), "Content-Type": "application/json"},
    )

    assert resp.status == 202, await resp.text()
