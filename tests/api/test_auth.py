"""Tokens, ownership and who may act for which worker (SPEC §4)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import WSServerHandshakeError

from tests.api.conftest import (
    CLIENT_TOKEN,
    OTHER_CLIENT_TOKEN,
    W1_TOKEN,
    WORKER_TOKEN,
    Api,
    assert_error,
    client_headers,
    worker_headers,
)

API_REQUESTS = [
    ("GET", "/api/v1/jobs"),
    ("POST", "/api/v1/greeting"),
    ("GET", "/api/v1/jobs/some-job"),
    ("POST", "/api/v1/jobs/some-job/cancel"),
    ("GET", "/api/v1/blueprints"),
    ("GET", "/api/v1/blueprints/greeting/graph"),
    ("GET", "/api/v1/no/such/route"),
]

WORKER_REQUESTS = [
    ("POST", "/_worker/workers/register"),
    ("PATCH", "/_worker/workers/w9"),
    ("GET", "/_worker/workers/w9/tasks/next"),
    ("POST", "/_worker/tasks/result"),
    ("GET", "/_worker/ws/w9"),
]

BAD_CLIENT_HEADERS = {
    "none": {},
    "empty": {"X-Client-Token": ""},
    "wrong": {"X-Client-Token": "not-a-token"},
    "prefix of a real one": {"X-Client-Token": CLIENT_TOKEN[:-1]},
    "a worker token": {"X-Client-Token": WORKER_TOKEN},
    "right token, wrong header": {"X-Worker-Token": CLIENT_TOKEN},
    "wrong bearer": {"Authorization": "Bearer not-a-token"},
    "bearer without a token": {"Authorization": "Bearer "},
    "another scheme": {"Authorization": f"Basic {CLIENT_TOKEN}"},
    "a worker token as bearer": {"Authorization": f"Bearer {WORKER_TOKEN}"},
}
MISSING = {"none", "empty", "right token, wrong header"}
"""No client token at all (seed 000): 401 MISSING_AUTH_HEADER; the others 401 UNAUTHORIZED."""

BAD_WORKER_HEADERS = {
    "none": {},
    "empty": {"X-Worker-Token": ""},
    "wrong": {"X-Worker-Token": "not-a-token"},
    "a client token": {"X-Worker-Token": CLIENT_TOKEN},
    "right token, wrong header": {"X-Client-Token": WORKER_TOKEN},
}


@pytest.mark.parametrize(("method", "path"), API_REQUESTS)
@pytest.mark.parametrize("case", BAD_CLIENT_HEADERS)
async def test_api_without_a_valid_client_token_is_401(
    api: Api, method: str, path: str, case: str
) -> None:
    resp = await api.client.request(method, path, json={}, headers=BAD_CLIENT_HEADERS[case])
    await assert_error(resp, 401, "MISSING_AUTH_HEADER" if case in MISSING else "UNAUTHORIZED")


@pytest.mark.parametrize(("method", "path"), API_REQUESTS)
async def test_api_takes_the_client_token_as_bearer(api: Api, method: str, path: str) -> None:
    resp = await api.client.request(
        method, path, json={}, headers={"Authorization": f"bearer {CLIENT_TOKEN}"}
    )
    assert resp.status != 401, await resp.text()


@pytest.mark.parametrize(("method", "path"), WORKER_REQUESTS)
@pytest.mark.parametrize("headers", BAD_WORKER_HEADERS.values(), ids=BAD_WORKER_HEADERS.keys())
async def test_worker_routes_without_a_valid_worker_token_are_401(
    api: Api, method: str, path: str, headers: dict[str, str]
) -> None:
    await api.register("w9")
    resp = await api.client.request(method, path, json={}, headers=headers)
    await assert_error(resp, 401, "UNAUTHORIZED")


async def test_an_unauthorized_create_makes_no_job(api: Api) -> None:
    resp = await api.client.post(
        "/api/v1/greeting", json={"initial_data": {"name": "Eve"}}, headers={}
    )
    assert resp.status == 401
    listed = await api.client.get("/api/v1/jobs", headers=client_headers())
    assert (await listed.json())["jobs"] == []


async def test_websocket_without_a_valid_token_is_refused(api: Api) -> None:
    for headers in ({}, {"X-Worker-Token": "nope"}):
        with pytest.raises(WSServerHandshakeError) as refused:
            await api.client.ws_connect("/_worker/ws/w9", headers=headers)
        assert refused.value.status == 401


# -- a client sees only its own jobs --------------------------------------------------------


async def test_another_clients_job_is_404_on_get_and_cancel(api: Api) -> None:
    job_id = await api.create()
    resp = await api.client.get(
        f"/api/v1/jobs/{job_id}", headers=client_headers(OTHER_CLIENT_TOKEN)
    )
    await assert_error(resp, 404, "JOB_NOT_FOUND")
    unknown = await api.client.get("/api/v1/jobs/no-such-job", headers=client_headers())
    assert (await unknown.json())["error"]["code"] == "JOB_NOT_FOUND", "same answer: no probing"

    resp = await api.cancel(job_id, token=OTHER_CLIENT_TOKEN)
    await assert_error(resp, 404, "JOB_NOT_FOUND")
    assert (await api.job(job_id))["status"] == "waiting_for_worker", "bob cancelled alice's job"


async def test_a_client_lists_only_its_own_jobs(api: Api) -> None:
    alices = await api.create()
    bobs = await api.create(token=OTHER_CLIENT_TOKEN)

    async def listed(token: str) -> list[str]:
        resp = await api.client.get("/api/v1/jobs", headers=client_headers(token))
        return [j["job_id"] for j in (await resp.json())["jobs"]]

    assert await listed(CLIENT_TOKEN) == [alices]
    assert await listed(OTHER_CLIENT_TOKEN) == [bobs]
    assert (await api.job(bobs, token=OTHER_CLIENT_TOKEN))["job_id"] == bobs


# -- a worker answers only for the tasks it holds -------------------------------------------


async def test_a_result_from_a_worker_that_does_not_hold_the_task_is_409(api: Api) -> None:
    job_id = await api.create()
    await api.register("holder")
    await api.register("intruder")
    task = await api.take("holder")

    resp = await api.result(task, "intruder", data={"greeting": "forged"})
    err = await assert_error(resp, 409, "TASK_NOT_HELD")
    assert "intruder" in err["message"]
    job = await api.job(job_id)
    assert job["status"] == "waiting_for_worker"
    assert job["task"]["worker_id"] == "holder"

    resp = await api.result(task, "holder", data={"greeting": "real"})
    assert resp.status == 200, await resp.text()
    assert (await api.job(job_id))["result"]["greeting"] == "real"


async def test_a_result_for_an_unknown_task_is_409(api: Api) -> None:
    job_id = await api.create()
    await api.register("guesser")
    task = await api.take("guesser")
    for forged in (
        {**task, "task_id": f"{job_id}.99"},
        {**task, "task_id": "made-up"},
        {**task, "job_id": "no-such-job"},
    ):
        resp = await api.result(forged, "guesser", data={"greeting": "x"})
        await assert_error(resp, 409, "TASK_NOT_HELD")
    assert (await api.job(job_id))["status"] == "waiting_for_worker"


async def test_a_result_after_the_job_was_cancelled_is_409(api: Api) -> None:
    job_id = await api.create()
    await api.register("cancelled-worker")
    task = await api.take("cancelled-worker")
    assert (await api.cancel(job_id)).status == 200
    resp = await api.result(task, "cancelled-worker", data={"greeting": "x"})
    err = await assert_error(resp, 409, "TASK_NOT_HELD")
    assert err["details"].get("job_status") == "cancelled"
    assert (await api.job(job_id))["status"] == "cancelled"


async def test_a_result_for_a_queued_task_nobody_took_is_409(api: Api) -> None:
    job_id = await api.create()
    await api.register("eager")
    forged = {"job_id": job_id, "task_id": f"{job_id}.1"}
    resp = await api.result(forged, "eager", data={"greeting": "x"})
    await assert_error(resp, 409, "TASK_NOT_HELD")


# -- a worker token bound to a worker id ----------------------------------------------------


async def test_a_bound_worker_token_works_for_its_own_worker(api: Api) -> None:
    job_id = await api.create()
    await api.register("w1", token=W1_TOKEN)
    resp = await api.poll("w1", timeout=1.0, token=W1_TOKEN)
    assert resp.status == 200, await resp.text()
    task = await resp.json()
    assert (await api.heartbeat("w1", token=W1_TOKEN)).status == 200
    resp = await api.result(task, "w1", data={"greeting": "hi"}, token=W1_TOKEN)
    assert resp.status == 200, await resp.text()
    assert (await api.job(job_id))["status"] == "finished"


BOUND_TOKEN_REQUESTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/_worker/workers/register", {"worker_id": "w2", "supported_skills": ["greet"]}),
    ("PATCH", "/_worker/workers/w2", None),
    ("GET", "/_worker/workers/w2/tasks/next?timeout=0.1", None),
    (
        "POST",
        "/_worker/tasks/result",
        {"job_id": "j", "task_id": "j.1", "worker_id": "w2", "status": "success"},
    ),
]


async def test_a_bound_worker_token_cannot_act_as_another_worker(api: Api) -> None:
    await api.register("w2")  # w2 exists (through the global token)
    for method, path, body in BOUND_TOKEN_REQUESTS:
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        resp = await api.client.request(method, path, headers=worker_headers(W1_TOKEN), **kwargs)
        err = await assert_error(resp, 403, "WORKER_TOKEN_MISMATCH")
        assert "w1" in err["message"], (method, path)

    with pytest.raises(WSServerHandshakeError) as refused:
        await api.client.ws_connect("/_worker/ws/w2", headers=worker_headers(W1_TOKEN))
    assert refused.value.status == 403


async def test_a_bound_worker_token_cannot_steal_a_result(api: Api) -> None:
    job_id = await api.create()
    await api.register("w2")
    task = await api.take("w2")
    resp = await api.result(task, "w2", data={"greeting": "stolen"}, token=W1_TOKEN)
    await assert_error(resp, 403, "WORKER_TOKEN_MISMATCH")
    assert (await api.job(job_id))["task"]["worker_id"] == "w2"


# -- odd bytes in tokens --------------------------------------------------------------------


async def raw_request(api: Api, head: bytes) -> tuple[int, bytes]:
    """Sends a hand-written request (bytes aiohttp's client would not send); (status, body)."""
    reader, writer = await asyncio.open_connection(api.client.host, api.client.port)
    try:
        writer.write(head)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
        await writer.wait_closed()
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(
    ("path", "header"), [("/api/v1/jobs", b"X-Client-Token"), ("/_worker/ws/w9", b"X-Worker-Token")]
)
async def test_a_token_that_is_not_utf8_is_401(api: Api, path: str, header: bytes) -> None:
    head = (
        b"GET "
        + path.encode()
        + b" HTTP/1.1\r\nHost: test\r\n"
        + header
        + b": \xff\xfe-token\r\nConnection: close\r\n\r\n"
    )
    status, _ = await raw_request(api, head)
    assert status == 401


async def test_a_latin1_token_is_401_not_an_error(api: Api) -> None:
    resp = await api.client.get("/api/v1/jobs", headers={"X-Client-Token": "tökén"})
    await assert_error(resp, 401, "UNAUTHORIZED")
