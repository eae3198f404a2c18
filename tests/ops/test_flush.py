"""POST /_public/debug/flush_db: dev mode only, and only this deployment's keys."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from tests.api.conftest import Api, MakeApi, assert_error, client_headers
from tests.helpers import wait_for


async def test_outside_dev_mode_the_route_does_not_exist(api: Api) -> None:
    job_id = await api.create()

    flush = await api.client.post("/_public/debug/flush_db")
    probe = await api.client.get("/_public/debug/flush_db")
    unknown = await api.client.post("/_public/debug/nothing_here")

    err = await assert_error(flush, 404, "NOT_FOUND")
    await assert_error(probe, 404, "NOT_FOUND")  # not 405: nothing tells it exists
    other = await assert_error(unknown, 404, "NOT_FOUND")
    assert err["message"] == other["message"].replace("nothing_here", "flush_db")
    assert await api.store.load(job_id) is not None


async def test_in_dev_mode_it_deletes_only_this_prefix(
    make_api: MakeApi, redis_url: str, prefix: str
) -> None:
    api = await make_api(dev_mode=True)
    job_id = await api.create()
    await api.register("w1")
    others = [f"{prefix}2:{{x}}:job", f"{prefix}", f"other:{prefix}:k", f"{prefix}-b:k"]
    raw = aioredis.Redis.from_url(redis_url)
    try:
        for key in others:
            await raw.set(key, "keep")
        before = [k async for k in raw.scan_iter(match=f"{prefix}:*")]

        resp = await api.client.post("/_public/debug/flush_db")

        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert body["status"] == "db_flushed"
        assert body["deleted"] >= len(before) >= 3
        assert await raw.exists(*others) == len(others)
        assert await raw.exists(api.store.keys.job(job_id), api.store.keys.workers) == 0
    finally:
        await raw.delete(*others)
        await raw.aclose()


async def test_the_deployment_works_after_a_flush(make_api: MakeApi) -> None:
    api = await make_api(dev_mode=True)
    await api.create()
    assert (await api.client.post("/_public/debug/flush_db")).status == 200

    job_id = await api.create()
    await api.register("w1")
    task = await api.take("w1")
    assert (await api.result(task, "w1", data={"greeting": "hi"})).status == 200

    await api.wait_status(job_id, "finished")
    # the task type index was flushed too; the store must have written it again
    await wait_for(lambda: _has_type(api, "greet"), what="task type indexed again")


async def test_a_job_finished_before_a_flush_is_gone_after_it(make_api: MakeApi) -> None:
    # the process keeps the jobs it finished (dispatch/job_waiters.py): a flush drops them
    api = await make_api(dev_mode=True)
    await api.register("w1")
    job_id = await api.create()
    task = await api.take("w1")
    assert (await api.result(task, "w1", data={"greeting": "hi"})).status == 200
    await api.wait_status(job_id, "finished")

    assert (await api.client.post("/_public/debug/flush_db")).status == 200

    resp = await api.client.get(f"/api/v1/jobs/{job_id}", headers=client_headers())
    assert resp.status == 404, await resp.text()
    # nor does a wait for a job created before the flush take its time to say so
    waited = await api.create()
    assert (await api.client.post("/_public/debug/flush_db")).status == 200
    waiting = api.client.get(f"/api/v1/jobs/{waited}?wait=30", headers=client_headers())
    resp = await asyncio.wait_for(waiting, 5)
    assert resp.status == 404, await resp.text()


async def _has_type(api: Api, task_type: str) -> bool:
    return task_type in await api.store.task_types()
