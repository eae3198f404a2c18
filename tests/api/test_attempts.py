"""A result names the attempt it ran; a worker may decline a delivery it will not run.

The case behind these tests: a worker's result for attempt 1 was still being retried when the
task, its lease lost, came back to the *same* worker as attempt 2. The late result must not be
applied to attempt 2, which never ran; it is refused and recorded in the history as dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from orchestrator import Actions, Blueprint, BlueprintRegistry, RetryPolicy, create_app
from orchestrator.storage.redis_store import RedisStore
from tests.api.conftest import Api, assert_error, client_headers, make_settings, worker_headers
from tests.conftest import delete_prefix
from tests.helpers import wait_for


async def _history(api: Api, job_id: str) -> list[dict[str, Any]]:
    resp = await api.client.get(f"/api/v1/jobs/{job_id}/history", headers=client_headers())
    assert resp.status == 200, await resp.text()
    return list(await resp.json())


fan = Blueprint("fan", api_version="v1", api_endpoint="fan")


@fan.handler(start=True)
async def spread(actions: Actions) -> None:
    quick = RetryPolicy(max_attempts=2, initial_interval_s=0.05, jitter=0)
    actions.dispatch_parallel(
        [{"task_type": "branchy", "params": {"n": 1}, "retry_policy": quick}],
        aggregate_into="joined",
    )


@fan.handler(end=True)
async def joined(parallel_results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"values": [r["data"]["value"] for r in parallel_results]}


@pytest.fixture
async def fan_api(aiohttp_client: Any, redis_url: str, prefix: str) -> AsyncIterator[Api]:
    """The app serving only ``fan``, a one-branch fan-out, over real Redis."""
    store = RedisStore(aioredis.Redis.from_url(redis_url), prefix)
    app = create_app(make_settings(), store, BlueprintRegistry([fan]))
    api = Api(client=await aiohttp_client(app), app=app, store=store)
    try:
        yield api
    finally:
        await api.client.close()
        await delete_prefix(redis_url, prefix)


async def _redelivered_to_the_same_worker(
    api: Api, worker_id: str
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A ``flaky`` job whose attempt 1 went to ``worker_id``, lost its lease because the worker
    registered again (as a restarted one does), and came back to it as attempt 2."""
    job_id = await api.create({"n": 1}, endpoint="v1/flaky")
    await api.register(worker_id, ["flaky"])
    first = await api.take(worker_id)
    assert first["attempt"] == 1
    # A registration newer than the lease: the sweeper treats the lease as lost at its deadline.
    await api.register(worker_id, ["flaky"])

    async def redelivered() -> dict[str, Any] | None:
        resp = await api.poll(worker_id, timeout=0.3)
        return dict(await resp.json()) if resp.status == 200 else None

    second = await wait_for(redelivered, timeout=6, what="attempt 2 to come back")
    assert (second["task_id"], second["attempt"]) == (first["task_id"], 2)
    return job_id, first, second


def _dropped(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in history if e["type"] == "result_dropped"]


async def test_a_result_for_a_stale_attempt_is_409_and_recorded_as_dropped(api: Api) -> None:
    job_id, first, second = await _redelivered_to_the_same_worker(api, "again")

    late = await api.result(first, "again", data={"value": 1}, attempt=1)
    err = await assert_error(late, 409, "TASK_NOT_HELD")
    assert err["details"]["attempt"] == 2, err  # the attempt the job waits for
    assert "attempt 1" in err["message"], err
    # the SDK gives up on a 409, but another client may retry: the history says it once
    again = await api.result(first, "again", data={"value": 1}, attempt=1)
    await assert_error(again, 409, "TASK_NOT_HELD")

    dropped = _dropped(await _history(api, job_id))
    assert len(dropped) == 1, dropped
    assert {k: dropped[0][k] for k in ("task_id", "attempt", "worker", "status", "reason")} == {
        "task_id": first["task_id"],
        "attempt": 1,
        "worker": "again",
        "status": "success",
        "reason": "stale_attempt",
    }
    job = await api.job(job_id)
    assert job["status"] == "waiting_for_worker"
    assert (job["task"]["attempt"], job["task"]["status"]) == (2, "leased")
    assert job["task"]["worker_id"] == "again"

    resp = await api.result(second, "again", data={"value": 2}, attempt=2)
    assert resp.status == 200, await resp.text()
    assert (await api.wait_status(job_id, "finished"))["result"] == {"value": 2}


async def test_a_result_without_attempt_answers_the_current_attempt(api: Api) -> None:
    """Seed 002's result body has no ``attempt``: such a result is the current attempt's."""
    job_id, _, second = await _redelivered_to_the_same_worker(api, "old-client")
    resp = await api.result(second, "old-client", data={"value": 3})
    assert resp.status == 200, await resp.text()
    assert (await api.wait_status(job_id, "finished"))["result"] == {"value": 3}
    assert _dropped(await _history(api, job_id)) == []


async def test_a_result_from_a_worker_that_lost_the_task_is_recorded_as_dropped(
    api: Api,
) -> None:
    job_id = await api.create({"n": 1}, endpoint="v1/flaky")
    await api.register("holder", ["flaky"])
    await api.register("stranger", ["flaky"])
    task = await api.take("holder")
    resp = await api.result(task, "stranger", data={"value": 9})
    await assert_error(resp, 409, "TASK_NOT_HELD")
    dropped = _dropped(await _history(api, job_id))
    assert [(e["worker"], e["reason"]) for e in dropped] == [("stranger", "not_held")]
    assert "attempt" not in dropped[0]  # the result named none
    assert (await api.job(job_id))["task"]["worker_id"] == "holder"


async def test_nothing_is_recorded_after_the_job_ended(api: Api) -> None:
    job_id = await api.create({"n": 1}, endpoint="v1/flaky")
    await api.register("ender", ["flaky"])
    task = await api.take("ender")
    assert (await api.cancel(job_id)).status == 200
    before = await _history(api, job_id)
    resp = await api.result(task, "ender", data={"value": 1}, attempt=1)
    await assert_error(resp, 409, "TASK_NOT_HELD")
    assert await _history(api, job_id) == before


async def test_a_branch_result_for_a_stale_attempt_is_refused_and_recorded(
    fan_api: Api,
) -> None:
    api = fan_api
    job_id = await api.create(endpoint="v1/fan")
    await api.register("brancher", ["branchy"])
    first = await api.take("brancher")
    await api.register("brancher", ["branchy"])  # the lease from before counts as lost

    async def redelivered() -> dict[str, Any] | None:
        resp = await api.poll("brancher", timeout=0.3)
        return dict(await resp.json()) if resp.status == 200 else None

    second = await wait_for(redelivered, timeout=6, what="the branch's attempt 2")
    assert (second["task_id"], second["attempt"]) == (first["task_id"], 2)

    late = await api.result(first, "brancher", data={"value": 1}, attempt=1)
    await assert_error(late, 409, "TASK_NOT_HELD")
    dropped = _dropped(await _history(api, job_id))
    assert [(e["task_id"], e["attempt"], e["reason"]) for e in dropped] == [
        (first["task_id"], 1, "stale_attempt")
    ]
    assert (await api.job(job_id))["status"] == "waiting_for_parallel"
    resp = await api.result(second, "brancher", data={"value": 2}, attempt=2)
    assert resp.status == 200, await resp.text()
    assert (await api.wait_status(job_id, "finished"))["result"] == {"values": [2]}


# -- declining a delivery -------------------------------------------------------------------


async def _decline(api: Api, task: dict[str, Any], worker_id: str, **extra: Any) -> Any:
    body = {"job_id": task["job_id"], "task_id": task["task_id"], "worker_id": worker_id, **extra}
    return await api.client.post("/_worker/tasks/decline", json=body, headers=worker_headers())


async def test_a_declined_task_is_released_at_once_with_the_same_attempt(api: Api) -> None:
    job_id = await api.create({"n": 5}, endpoint="v1/flaky")
    await api.register("busy", ["flaky"])
    await api.register("free", ["flaky"])
    task = await api.take("busy")

    resp = await _decline(api, task, "busy", attempt=1, reason="still finishing attempt 0")
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"status": "task_released"}
    # at once: well inside the 1 s lease, and the same attempt (it never ran)
    again = await api.take("free", timeout=0.5)
    assert (again["task_id"], again["attempt"]) == (task["task_id"], 1)

    released = [e for e in await _history(api, job_id) if e["type"] == "task_released"]
    assert [(e["worker"], e["reason"]) for e in released] == [("busy", "still finishing attempt 0")]
    # the decliner holds nothing any more; a second decline changes nothing
    await assert_error(await _decline(api, task, "busy", attempt=1), 409, "TASK_NOT_HELD")
    late = await api.result(task, "busy", data={"value": 0}, attempt=1)
    await assert_error(late, 409, "TASK_NOT_HELD")
    assert (await api.result(again, "free", data={"value": 5}, attempt=1)).status == 200
    assert (await api.wait_status(job_id, "finished"))["result"] == {"value": 5}


async def test_a_decline_of_an_attempt_not_held_is_409_and_changes_nothing(api: Api) -> None:
    job_id = await api.create({"n": 1}, endpoint="v1/flaky")
    await api.register("keeper", ["flaky"])
    await api.register("other", ["flaky"])
    task = await api.take("keeper")
    before = await _history(api, job_id)
    await assert_error(await _decline(api, task, "keeper", attempt=2), 409, "TASK_NOT_HELD")
    await assert_error(await _decline(api, task, "other", attempt=1), 409, "TASK_NOT_HELD")
    missing = {**task, "job_id": "no-such-job"}
    await assert_error(await _decline(api, missing, "keeper", attempt=1), 409, "TASK_NOT_HELD")
    assert await _history(api, job_id) == before
    job = await api.job(job_id)
    assert (job["task"]["worker_id"], job["task"]["status"]) == ("keeper", "leased")


async def test_a_decline_must_name_its_attempt(api: Api) -> None:
    await api.create({"n": 1}, endpoint="v1/flaky")
    await api.register("vague", ["flaky"])
    task = await api.take("vague")
    for extra, field in (
        ({}, "attempt"),
        ({"attempt": "1"}, "attempt"),
        ({"attempt": True}, "attempt"),
        ({"attempt": 1, "reason": 7}, "reason"),
        ({"attempt": 1, "reason": "x" * 201}, "reason"),
    ):
        err = await assert_error(
            await _decline(api, task, "vague", **extra), 400, "VALIDATION_ERROR"
        )
        assert err["details"]["field"] == field, (extra, err)
