"""Bugs the schemathesis run found, pinned down so that they stay fixed."""

from __future__ import annotations

import pytest

from orchestrator.api.schemas import MAX_TIMEOUT_S
from tests.api.conftest import Api, assert_error, client_headers, worker_headers


@pytest.mark.parametrize("field", ["dispatch_timeout", "result_timeout"])
@pytest.mark.parametrize("seconds", [1e308, MAX_TIMEOUT_S + 1])
async def test_a_timeout_past_what_timers_hold_is_refused(
    api: Api, field: str, seconds: float
) -> None:
    # 1e308 s used to overflow the timer score: 500 and no job
    resp = await api.client.post(
        "/api/v1/greeting",
        json={"initial_data": {"name": "Ada"}, field: seconds},
        headers=client_headers(),
    )
    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"] == {"field": field}


async def test_the_longest_timeout_is_accepted(api: Api) -> None:
    job_id = await api.create({"name": "Ada"}, result_timeout=MAX_TIMEOUT_S)
    assert (await api.job(job_id))["status"] == "waiting_for_worker"


async def test_a_heartbeat_cannot_rewrite_what_the_server_owns(api: Api) -> None:
    # {"registered_at": "x"} in a heartbeat used to make GET /api/v1/workers answer 500
    await api.register("w9")
    resp = await api.heartbeat("w9", {"registered_at": "x", "worker_id": 5, "load": 1})
    assert resp.status == 200, await resp.text()
    resp = await api.client.get("/api/v1/workers", headers=client_headers())
    assert resp.status == 200, await resp.text()
    (worker,) = await resp.json()
    assert worker["worker_id"] == "w9" and worker["load"] == 1
    assert worker["registered_at"].endswith("Z")


@pytest.mark.parametrize(
    ("body", "field"),
    [({"capacity": 0}, "capacity"), ({"capacity": "2"}, "capacity"), ({"tags": "gpu"}, "tags")],
)
async def test_a_heartbeat_checks_capacity_and_tags_as_registration_does(
    api: Api, body: dict[str, object], field: str
) -> None:
    await api.register("w9")
    err = await assert_error(await api.heartbeat("w9", body), 400, "VALIDATION_ERROR")
    assert err["details"] == {"field": field}
    resp = await api.client.get("/api/v1/workers", headers=client_headers())
    assert (await resp.json())[0]["capacity"] == 1


@pytest.mark.parametrize("raw", [b" ", b"\n", b" \t\r\n "])
async def test_a_whitespace_only_body_is_not_an_empty_one(api: Api, raw: bytes) -> None:
    # hypothesis seed 313551776384277585456132209079087767752: `-d ' '` created a job as `{}`
    resp = await api.client.post(
        "/api/v1/greeting",
        data=raw,
        headers={**client_headers(), "Content-Type": "application/json"},
    )
    await assert_error(resp, 400, "INVALID_JSON")
    listed = await api.client.get("/api/v1/jobs", headers=client_headers())
    assert (await listed.json())["jobs"] == []


async def test_a_whitespace_only_heartbeat_is_refused(api: Api) -> None:
    await api.register("w9")
    resp = await api.client.patch(
        "/_worker/workers/w9",
        data=b" ",
        headers={**worker_headers(), "Content-Type": "application/json"},
    )
    await assert_error(resp, 400, "INVALID_JSON")


async def test_no_body_at_all_still_starts_a_job(api: Api) -> None:
    resp = await api.client.post("/api/v1/greeting", headers=client_headers())
    assert resp.status == 202, await resp.text()
