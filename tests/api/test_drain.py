"""Draining a worker over HTTP: who may, what the worker and the listings see, and the
worker's goodbye."""

from __future__ import annotations

import asyncio

from orchestrator.api.drain import DRAINING
from orchestrator.appkeys import DISPATCHER
from orchestrator.config import ClientToken
from tests.api.conftest import CLIENT_TOKEN, Api, MakeApi, assert_error, client_headers
from tests.helpers import wait_for

OPS_TOKEN = "ops-token"


def _clients() -> tuple[ClientToken, ...]:
    return (ClientToken("alice", CLIENT_TOKEN), ClientToken("ops", OPS_TOKEN, None, False, True))


async def _drain(api: Api, worker_id: str, token: str = OPS_TOKEN) -> tuple[int, object]:
    resp = await api.client.post(
        f"/api/v1/workers/{worker_id}/drain", headers=client_headers(token)
    )
    return resp.status, await resp.json()


async def _workers(api: Api) -> dict[str, bool]:
    resp = await api.client.get("/api/v1/workers", headers=client_headers())
    return {w["worker_id"]: w["draining"] for w in await resp.json()}


async def test_only_an_operator_drains_and_only_a_live_worker(make_api: MakeApi) -> None:
    api = await make_api(clients=_clients())
    await api.register("w1")
    resp = await api.client.post("/api/v1/workers/w1/drain", headers=client_headers())
    await assert_error(resp, 403, "WORKER_MANAGEMENT_FORBIDDEN")
    resp = await api.client.post("/api/v1/workers/ghost/drain", headers=client_headers(OPS_TOKEN))
    await assert_error(resp, 404, "WORKER_NOT_FOUND")
    assert await _workers(api) == {"w1": False}


async def test_a_drained_worker_gets_no_task_and_leaves(make_api: MakeApi) -> None:
    api = await make_api(clients=_clients(), poll_timeout_s=30.0)
    await api.register("w1")
    await api.register("w2")
    parked = asyncio.create_task(api.poll("w1", timeout=30))
    try:
        await wait_for(lambda: api.app[DISPATCHER].waiting == 1, what="w1's poll to park")
        assert await _drain(api, "w1") == (202, {"worker_id": "w1", "status": "draining"})
        assert await _drain(api, "w1") == (202, {"worker_id": "w1", "status": "draining"})

        # The task reaches the poll w1 parked before the drain: it goes back, to w2.
        job_id = await api.create()
        await assert_error(await asyncio.wait_for(parked, 5), 409, "WORKER_DRAINING")
        assert (await api.take("w2"))["job_id"] == job_id
    finally:
        parked.cancel()
    await assert_error(await api.poll("w1", timeout=5), 409, "WORKER_DRAINING")
    beats = [await (await api.heartbeat(w)).json() for w in ("w1", "w2")]
    assert [b["draining"] for b in beats] == [True, False]
    assert await _workers(api) == {"w1": True, "w2": False}
    dashboard = await (await api.client.get("/api/v1/dashboard", headers=client_headers())).json()
    assert dashboard["workers"]["draining"] == 1
    metrics = (await (await api.client.get("/_public/metrics")).text()).splitlines()
    assert "orchestrator_workers_draining 1.0" in metrics

    resp = await api.client.delete("/_worker/workers/w1", headers={"X-Worker-Token": "tok1"})
    assert resp.status == 204
    assert await _workers(api) == {"w2": False}
    await assert_error(
        await api.client.post("/api/v1/workers/w1/drain", headers=client_headers(OPS_TOKEN)),
        404,
        "WORKER_NOT_FOUND",
    )
    # The same id registered again is a new worker, not a drained one.
    await api.register("w1")
    assert "w1" not in api.app[DRAINING]
    assert (await api.poll("w1", timeout=0.05)).status == 204


async def test_every_process_refuses_a_drained_worker_at_once(make_api: MakeApi) -> None:
    one = await make_api(clients=_clients())
    other = await make_api(clients=_clients())  # another process on the same Redis
    await one.register("w1")
    assert (await other.poll("w1", timeout=0.05)).status == 204

    assert (await _drain(one, "w1"))[0] == 202
    await wait_for(lambda: "w1" in other.app[DRAINING], 5, "the announcement")
    await assert_error(await other.poll("w1", timeout=5), 409, "WORKER_DRAINING")

    # The goodbye to one process reaches the other too.
    resp = await one.client.delete("/_worker/workers/w1", headers={"X-Worker-Token": "tok1"})
    assert resp.status == 204
    await wait_for(lambda: "w1" not in other.app[DRAINING], 5, "the goodbye")
