"""/_worker: registration, heartbeats, the long-poll, results, retries and lease expiry."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from orchestrator.appkeys import DISPATCHER
from tests.api.conftest import Api, MakeApi, assert_error, worker_headers
from tests.helpers import wait_for

# -- registration ---------------------------------------------------------------------------


async def test_register_answers_registered(api: Api) -> None:
    answer = await api.register("reg-1", ["greet", "flaky"])
    assert answer["status"] == "registered"


async def test_register_again_replaces_the_skills(api: Api) -> None:
    await api.register("switch", ["review"])
    await api.register("switch", ["greet"])
    job_id = await api.create()
    task = await api.take("switch")
    assert task["job_id"] == job_id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"worker_id": "w-x", "supported_skills": []}, "supported_skills"),
        ({"worker_id": "w-x", "supported_skills": "greet"}, "supported_skills"),
        ({"worker_id": "w-x", "supported_skills": [5]}, "supported_skills"),
        ({"worker_id": "w-x", "supported_skills": ["gr eet"]}, "supported_skills"),
        ({"worker_id": "w-x", "supported_skills": ["{greet}"]}, "supported_skills"),
        ({"worker_id": "w-x"}, "supported_skills"),
        ({"worker_id": "a{b}", "supported_skills": ["greet"]}, "worker_id"),
        ({"worker_id": "w x", "supported_skills": ["greet"]}, "worker_id"),
        ({"worker_id": "w-x\n", "supported_skills": ["greet"]}, "worker_id"),
        ({"worker_id": "", "supported_skills": ["greet"]}, "worker_id"),
        ({"worker_id": 7, "supported_skills": ["greet"]}, "worker_id"),
        ({"supported_skills": ["greet"]}, "worker_id"),
        ({"worker_id": "w-x", "supported_skills": ["greet"], "capacity": 0}, "capacity"),
        ({"worker_id": "w-x", "supported_skills": ["greet"], "capacity": "2"}, "capacity"),
        ({"worker_id": "w-x", "supported_skills": ["greet"], "tags": "gpu"}, "tags"),
    ],
)
async def test_register_with_a_bad_field_is_400_naming_it(
    api: Api, body: dict[str, Any], field: str
) -> None:
    resp = await api.client.post("/_worker/workers/register", json=body, headers=worker_headers())
    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == field


@pytest.mark.parametrize(
    ("raw", "code"),
    [(b"", "INVALID_JSON"), (b"{nope", "INVALID_JSON"), (b"[1, 2]", "VALIDATION_ERROR")],
)
async def test_register_with_a_bad_body_is_400(api: Api, raw: bytes, code: str) -> None:
    resp = await api.client.post(
        "/_worker/workers/register",
        data=raw,
        headers={**worker_headers(), "Content-Type": "application/json"},
    )
    await assert_error(resp, 400, code)


async def test_register_with_a_body_over_the_limit_is_413(api: Api) -> None:
    body = {"worker_id": "big", "supported_skills": ["greet"], "note": "x" * 20_000}
    resp = await api.client.post("/_worker/workers/register", json=body, headers=worker_headers())
    await assert_error(resp, 413, "PAYLOAD_TOO_LARGE")


# -- heartbeat ------------------------------------------------------------------------------


async def test_heartbeat_with_empty_body_refreshes_the_ttl(api: Api) -> None:
    await api.register("beat")
    resp = await api.heartbeat("beat")
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["status"] == "ttl_refreshed"
    assert body["cancelled_tasks"] == []


async def test_heartbeats_in_a_burst_all_succeed(api: Api) -> None:
    await api.register("burst")
    answers = await asyncio.gather(*(api.heartbeat("burst") for _ in range(20)))
    assert [r.status for r in answers] == [200] * 20


async def test_heartbeat_with_a_json_body_updates_the_worker(api: Api) -> None:
    await api.register("loaded", ["review"])
    resp = await api.heartbeat("loaded", {"load": 1, "running_tasks": ["t-1"]})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["status"] == "ttl_refreshed"


async def test_heartbeat_can_change_the_skills(api: Api) -> None:
    await api.register("learner", ["review"])
    resp = await api.heartbeat("learner", {"supported_skills": ["greet"]})
    assert resp.status == 200, await resp.text()
    job_id = await api.create()
    assert (await api.take("learner"))["job_id"] == job_id


@pytest.mark.parametrize("body", [None, {"load": 0}])
async def test_heartbeat_of_an_unknown_worker_is_404(api: Api, body: Any) -> None:
    resp = await api.heartbeat("ghost", body)
    await assert_error(resp, 404, "WORKER_NOT_REGISTERED")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"load": -1}, "load"),
        ({"load": "high"}, "load"),
        ({"load": True}, "load"),
        ({"running_tasks": "t-1"}, "running_tasks"),
        ({"running_tasks": [1]}, "running_tasks"),
    ],
)
async def test_heartbeat_with_a_bad_field_is_400(
    api: Api, body: dict[str, Any], field: str
) -> None:
    await api.register("picky")
    err = await assert_error(await api.heartbeat("picky", body), 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == field


async def test_heartbeat_with_malformed_json_is_400(api: Api) -> None:
    await api.register("garbled")
    resp = await api.client.patch(
        "/_worker/workers/garbled",
        data=b'{"load": ',
        headers={**worker_headers(), "Content-Type": "application/json"},
    )
    await assert_error(resp, 400, "INVALID_JSON")


@pytest.mark.parametrize("skills", [5, None, "greet", ["{x}"]])
async def test_heartbeat_with_bad_skills_is_400(api: Api, skills: Any) -> None:
    await api.register("confused")
    resp = await api.heartbeat("confused", {"supported_skills": skills})
    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == "supported_skills"


# -- long-poll ------------------------------------------------------------------------------


async def test_long_poll_answers_as_soon_as_a_job_is_created(make_api: MakeApi) -> None:
    api = await make_api(poll_timeout_s=10.0)
    await api.register("parked")
    poll = asyncio.create_task(api.poll("parked"))
    try:
        await wait_for(lambda: api.app[DISPATCHER].waiting == 1, what="the poll to park")
        assert not poll.done()
        started = time.monotonic()
        job_id = await api.create()
        resp = await asyncio.wait_for(poll, 5)
        assert resp.status == 200, await resp.text()
        task = await resp.json()
        assert task["job_id"] == job_id
        assert time.monotonic() - started < 1.0, "the parked poll must answer promptly"
    finally:
        poll.cancel()
    assert api.app[DISPATCHER].waiting == 0


async def test_long_poll_answers_204_when_nothing_comes(api: Api) -> None:
    await api.register("idle")
    started = time.monotonic()
    resp = await api.poll("idle", timeout=0.2)
    elapsed = time.monotonic() - started
    assert resp.status == 204
    assert await resp.read() == b""
    assert 0.15 <= elapsed < 0.9, elapsed  # the server's own limit is 1 s


async def test_long_poll_answers_say_where_their_time_went(api: Api) -> None:
    await api.register("timed")
    resp = await api.poll("timed", timeout=0.05)
    assert resp.status == 204
    parts = dict(p.strip().split(";dur=") for p in resp.headers["Server-Timing"].split(","))
    assert set(parts) == {"queue", "poll"}
    assert 0 <= float(parts["queue"]) <= float(parts["poll"])


async def test_long_poll_wait_is_capped_by_the_server(make_api: MakeApi) -> None:
    api = await make_api(poll_timeout_s=0.2)
    await api.register("greedy")
    started = time.monotonic()
    resp = await api.poll("greedy", timeout=3600)
    assert resp.status == 204
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("timeout", ["inf", "1e400", "1e308"])
async def test_long_poll_with_a_huge_timeout_is_capped_not_an_error(
    make_api: MakeApi, timeout: str
) -> None:
    api = await make_api(poll_timeout_s=0.2)
    await api.register("huge")
    resp = await api.client.get(
        "/_worker/workers/huge/tasks/next", params={"timeout": timeout}, headers=worker_headers()
    )
    assert resp.status == 204


async def test_long_poll_does_not_hand_out_other_task_types(api: Api) -> None:
    await api.create()  # a greet task
    await api.register("reviewer", ["review"])
    resp = await api.poll("reviewer", timeout=0.2)
    assert resp.status == 204


@pytest.mark.parametrize("timeout", ["abc", "-1", "nan"])
async def test_long_poll_with_a_bad_timeout_is_400(api: Api, timeout: str) -> None:
    await api.register("odd")
    resp = await api.client.get(
        "/_worker/workers/odd/tasks/next", params={"timeout": timeout}, headers=worker_headers()
    )
    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == "timeout"


async def test_long_poll_of_an_unknown_worker_is_404(api: Api) -> None:
    await assert_error(await api.poll("ghost", timeout=0.1), 404, "WORKER_NOT_REGISTERED")


async def test_shutdown_answers_parked_polls_204(make_api: MakeApi) -> None:
    api = await make_api(poll_timeout_s=30.0)
    await api.register("leaving")
    poll = asyncio.create_task(api.poll("leaving"))
    try:
        await wait_for(lambda: api.app[DISPATCHER].waiting == 1, what="the poll to park")
        started = time.monotonic()
        await api.app.shutdown()
        resp = await asyncio.wait_for(poll, 5)
        assert resp.status == 204
        assert time.monotonic() - started < 2.0
    finally:
        poll.cancel()


# -- results --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"job_id": None}, "job_id"),
        ({"task_id": ""}, "task_id"),
        ({"worker_id": 3}, "worker_id"),
        ({"status": None}, "status"),
        ({"data": "text"}, "data"),
        ({"data": [1]}, "data"),
        ({"error": "boom"}, "error"),
        ({"error": {"code": 5}}, "error.code"),
        ({"error": {"code": "X", "retryable": "yes"}}, "error.retryable"),
        ({"attempt": "1"}, "attempt"),
    ],
)
async def test_result_with_a_bad_field_is_400_naming_it(
    api: Api, change: dict[str, Any], field: str
) -> None:
    body = {"job_id": "j", "task_id": "t", "worker_id": "w", "status": "success", **change}
    resp = await api.client.post("/_worker/tasks/result", json=body, headers=worker_headers())
    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == field


@pytest.mark.parametrize(
    ("raw", "code"),
    [(b"", "INVALID_JSON"), (b"{", "INVALID_JSON"), (b'"just a string"', "VALIDATION_ERROR")],
)
async def test_result_with_a_bad_body_is_400(api: Api, raw: bytes, code: str) -> None:
    resp = await api.client.post(
        "/_worker/tasks/result",
        data=raw,
        headers={**worker_headers(), "Content-Type": "application/json"},
    )
    await assert_error(resp, 400, code)


DEEP = b'{"a": ' * 300 + b"1" + b"}" * 300
"""Valid JSON nested 300 deep: orjson parses it but cannot write it back."""


@pytest.mark.parametrize("route", ["register", "heartbeat", "result"])
async def test_deeply_nested_worker_bodies_are_400(api: Api, route: str) -> None:
    await api.register("deep")
    if route == "register":
        method, path = "POST", "/_worker/workers/register"
        raw = b'{"worker_id": "deep", "supported_skills": ["greet"], "x": ' + DEEP + b"}"
    elif route == "heartbeat":
        method, path = "PATCH", "/_worker/workers/deep"
        raw = b'{"load": 0, "x": ' + DEEP + b"}"
    else:
        await api.create()
        task = await api.take("deep")
        method, path = "POST", "/_worker/tasks/result"
        head = {k: task[k] for k in ("job_id", "task_id")}
        raw = (
            (
                b'{"job_id": "%(job_id)s", "task_id": "%(task_id)s", "worker_id": "deep", '
                b'"status": "success", "data": {"greeting": '
                % {k.encode(): v.encode() for k, v in head.items()}
            )
            + DEEP
            + b"}}"
        )
    resp = await api.client.request(
        method, path, data=raw, headers={**worker_headers(), "Content-Type": "application/json"}
    )
    assert resp.status == 400, await resp.text()


async def test_result_for_the_wrong_attempt_is_409(api: Api) -> None:
    await api.create({"n": 1}, endpoint="v1/flaky")
    await api.register("att", ["flaky"])
    task = await api.take("att")
    resp = await api.result(task, "att", data={"value": 1}, attempt=2)
    await assert_error(resp, 409, "TASK_NOT_HELD")
    assert (await api.result(task, "att", data={"value": 1}, attempt=1)).status == 200


async def test_a_retryable_failure_is_retried_then_exhausted(api: Api) -> None:
    job_id = await api.create({"n": 1}, endpoint="v1/flaky")
    await api.register("retry", ["flaky"])
    first = await api.take("retry")
    assert (first["attempt"], first["max_attempts"]) == (1, 2)

    boom = {"code": "BOOM", "message": "it broke", "retryable": True}
    retried_at = time.monotonic()
    resp = await api.result(first, "retry", "failure", error=boom)
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"status": "result_accepted_retrying"}
    job = await api.job(job_id)
    assert job["status"] == "waiting_for_worker"
    assert job["task"]["attempt"] == 2
    assert job["task"]["status"] == "queued"

    second = await api.take("retry")
    assert time.monotonic() - retried_at >= 0.045, "the retry came before its 50 ms backoff"
    assert second["task_id"] == first["task_id"]
    assert second["attempt"] == 2

    resp = await api.result(second, "retry", "failure", error=boom)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["status"] == "result_accepted_failure"
    job = await api.wait_status(job_id, "failed")
    assert job["error"]["code"] == "RETRIES_EXHAUSTED"


async def test_a_retry_that_succeeds_finishes_the_job(api: Api) -> None:
    job_id = await api.create({"n": 1}, endpoint="v1/flaky")
    await api.register("second-try", ["flaky"])
    first = await api.take("second-try")
    err = {"code": "BUSY", "retryable": True}
    assert (await api.result(first, "second-try", "failure", error=err)).status == 200
    second = await api.take("second-try")
    resp = await api.result(second, "second-try", data={"value": 7})
    assert await resp.json() == {"status": "result_accepted_success"}
    job = await api.wait_status(job_id, "finished")
    assert job["result"] == {"value": 7}


async def test_the_stale_attempt_cannot_answer_after_a_retry(api: Api) -> None:
    job_id = await api.create({"n": 1}, endpoint="v1/flaky")
    await api.register("stale", ["flaky"])
    await api.register("fresh", ["flaky"])
    first = await api.take("stale")
    err = {"code": "BUSY", "retryable": True}
    assert (await api.result(first, "stale", "failure", error=err)).status == 200
    second = await api.take("fresh")
    assert second["attempt"] == 2

    # the first attempt's success arrives late: refused, or answered as the repeat of what
    # that attempt already reported; either way it must not move the job
    resp = await api.result(first, "stale", data={"value": 1}, attempt=1)
    if resp.status == 200:
        assert await resp.json() == {"status": "result_accepted_retrying"}
    else:
        await assert_error(resp, 409, "TASK_NOT_HELD")
    job = await api.job(job_id)
    assert job["status"] == "waiting_for_worker"
    assert (job["task"]["attempt"], job["task"]["worker_id"]) == (2, "fresh")

    assert (await api.result(second, "fresh", data={"value": 2}, attempt=2)).status == 200
    assert (await api.wait_status(job_id, "finished"))["result"] == {"value": 2}


async def test_a_duplicated_retryable_failure_gets_the_same_answer(api: Api) -> None:
    await api.create({"n": 1}, endpoint="v1/flaky")
    await api.register("dup", ["flaky"])
    task = await api.take("dup")
    err = {"code": "BUSY", "retryable": True}
    first = await api.result(task, "dup", "failure", error=err)
    assert await first.json() == {"status": "result_accepted_retrying"}
    again = await api.result(task, "dup", "failure", error=err)
    assert again.status == 200, await again.text()
    assert await again.json() == {"status": "result_accepted_retrying"}


async def test_a_non_retryable_failure_without_a_failure_transition_fails_with_its_code(
    api: Api,
) -> None:
    job_id = await api.create({"n": 1}, endpoint="v1/flaky")
    await api.register("fatal", ["flaky"])
    task = await api.take("fatal")
    err = {"code": "BAD_INPUT", "message": "n is odd", "retryable": False}
    resp = await api.result(task, "fatal", "failure", error=err)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["status"] == "result_accepted_failure"
    job = await api.wait_status(job_id, "failed")
    assert job["error"]["code"] == "BAD_INPUT"
    assert job["error"]["message"] == "n is odd"


async def test_a_failure_follows_the_blueprints_failure_transition(api: Api) -> None:
    job_id = await api.create()
    await api.register("greeter")
    task = await api.take("greeter")
    resp = await api.result(task, "greeter", "failure", error={"code": "NO_VOICE"})
    assert (await resp.json())["status"] == "result_accepted_failure"
    job = await api.wait_status(job_id, "failed")
    assert job["error"]["code"] == "GREETING_FAILED"
    assert job["current_state"] == "failed"


async def test_a_custom_status_goes_where_the_blueprint_maps_it(api: Api) -> None:
    job_id = await api.create(endpoint="v1/review")
    await api.register("rev", ["review"])
    task = await api.take("rev")
    resp = await api.result(task, "rev", "needs_review", data={"reason": "odd amount"})
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"status": "result_accepted_needs_review"}
    job = await api.wait_status(job_id, "finished")
    assert job["result"] == {"outcome": "manual", "reason": "odd amount"}


async def test_an_unmapped_status_quarantines_the_job(api: Api) -> None:
    job_id = await api.create(endpoint="v1/review")
    await api.register("rev2", ["review"])
    task = await api.take("rev2")
    resp = await api.result(task, "rev2", "maybe")
    assert resp.status == 200, await resp.text()
    job = await api.wait_status(job_id, "quarantined")
    assert job["error"]["code"] == "UNMAPPED_TASK_STATUS"
    assert "maybe" in job["error"]["message"]


# -- leases ---------------------------------------------------------------------------------


async def test_an_expired_lease_hands_the_task_to_another_worker(api: Api) -> None:
    job_id = await api.create({"n": 3}, endpoint="v1/flaky")
    await api.register("vanishing", ["flaky"])
    await api.register("rescuer", ["flaky"])
    lost = await api.take("vanishing")
    assert lost["attempt"] == 1
    taken_at = time.monotonic()

    async def redelivered() -> dict[str, Any] | None:
        resp = await api.poll("rescuer", timeout=0.3)
        return await resp.json() if resp.status == 200 else None

    again = await wait_for(redelivered, timeout=6, what="the task to come back")
    assert time.monotonic() - taken_at >= 0.9, "the lease (1 s) ended early"
    assert again["task_id"] == lost["task_id"]
    assert again["attempt"] == 2
    job = await api.job(job_id)
    assert job["task"]["worker_id"] == "rescuer"

    late = await api.result(lost, "vanishing", data={"value": 0})
    await assert_error(late, 409, "TASK_NOT_HELD")
    resp = await api.result(again, "rescuer", data={"value": 3})
    assert resp.status == 200, await resp.text()
    assert (await api.wait_status(job_id, "finished"))["result"] == {"value": 3}


async def test_heartbeats_keep_the_lease(make_api: MakeApi) -> None:
    api = await make_api(lease_s=0.6, heartbeat_interval_s=0.2)
    job_id = await api.create({"n": 4}, endpoint="v1/flaky")
    await api.register("steady", ["flaky"])
    await api.register("watcher", ["flaky"])
    task = await api.take("steady")
    started = time.monotonic()

    async def kept_for_two_leases() -> bool:
        # heartbeat (about every 0.2 s) and check that nobody else got the task
        assert (await api.heartbeat("steady")).status == 200
        resp = await api.poll("watcher", timeout=0.15)
        assert resp.status == 204, "the task was handed out again while heartbeats came"
        return time.monotonic() - started > 1.5  # 2.5 lease lengths

    await wait_for(kept_for_two_leases, timeout=8, what="two lease lengths to pass")
    assert (await api.job(job_id))["task"]["worker_id"] == "steady"
    assert (await api.result(task, "steady", data={"value": 4})).status == 200


async def test_backoff_honoured_for_a_task_type_new_since_startup(make_api: MakeApi) -> None:
    """Regression: the sweeper once cached the task types for 5 s, so the backoffs and lease
    expiries of a type first queued after start-up were handled seconds late."""
    api = await make_api()
    # Once a dispatch timeout has fired, the sweeper has run (and read the task types) at
    # least once; "flaky" was not among them then.
    witness = await api.create(dispatch_timeout=0.1)
    await api.wait_status(witness, "failed")
    await api.create({"n": 1}, endpoint="v1/flaky")
    await api.register("new-type", ["flaky"])
    first = await api.take("new-type")
    err = {"code": "BUSY", "retryable": True}
    assert (await api.result(first, "new-type", "failure", error=err)).status == 200
    started = time.monotonic()

    async def back() -> bool:
        return (await api.poll("new-type", timeout=0.2)).status == 200

    # the backoff is 50 ms: a second is ample, and the bug makes it wait ~5 s
    await wait_for(back, timeout=1.0, what="the retry after a 50 ms backoff")
    assert time.monotonic() - started < 1.5
