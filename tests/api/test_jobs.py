"""/api: creating, reading, listing and cancelling jobs; job timeouts; blueprints and graphs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from tests.api.conftest import Api, MakeApi, assert_error, client_headers, worker_headers
from tests.helpers import wait_for


def parse_iso(value: Any) -> datetime:
    assert isinstance(value, str), value
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value} has no time zone"
    return parsed


# -- the main lifecycle ---------------------------------------------------------------------


@pytest.mark.parametrize("store_kind", ["redis", "embedded"])
async def test_job_lifecycle_over_http(api: Api) -> None:
    job_id = await api.create({"name": " Ada "})

    job = await api.job(job_id)
    assert job["job_id"] == job_id
    assert job["blueprint"] == "greeting"
    assert job["status"] == "waiting_for_worker"
    assert job["task"]["status"] == "queued"
    assert job["finished_at"] is None

    await api.register("life-1")
    task = await api.take("life-1")
    assert task["job_id"] == job_id
    assert task["task_type"] == "greet"
    assert task["params"] == {"name": "Ada"}
    assert task["attempt"] == 1
    assert task["max_attempts"] == 4  # dispatch_task's default: 3 retries
    assert isinstance(task["task_id"], str) and task["task_id"]

    job = await api.job(job_id)
    assert job["status"] == "waiting_for_worker"
    assert job["task"]["task_id"] == task["task_id"]
    assert job["task"]["status"] == "leased"
    assert job["task"]["worker_id"] == "life-1"

    resp = await api.result(task, "life-1", data={"greeting": "Hello, Ada"})
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"status": "result_accepted_success"}

    job = await api.job(job_id)
    assert job["status"] == "finished"
    assert job["result"] == {"greeting": "Hello, Ada", "job_id": job_id}
    assert job["error"] is None
    assert "task" not in job or job["task"] is None
    created, updated = parse_iso(job["created_at"]), parse_iso(job["updated_at"])
    finished = parse_iso(job["finished_at"])
    assert created <= updated
    assert created <= finished <= updated

    again = await api.result(task, "life-1", data={"greeting": "Hello, Ada"})
    assert again.status == 200, await again.text()
    assert await again.json() == {"status": "result_accepted_success"}
    assert await api.job(job_id) == job, "a repeated result must not move the job"

    resp = await api.client.get("/api/v1/jobs", headers=client_headers())
    assert resp.status == 200
    listed = (await resp.json())["jobs"]
    assert [j["job_id"] for j in listed] == [job_id]
    assert listed[0]["status"] == "finished"


async def test_get_unknown_job_is_404(api: Api) -> None:
    resp = await api.client.get("/api/v1/jobs/no-such-job", headers=client_headers())
    await assert_error(resp, 404, "JOB_NOT_FOUND")


async def test_create_without_body_starts_a_job_with_empty_data(api: Api) -> None:
    resp = await api.client.post("/api/v1/greeting", headers=client_headers())
    assert resp.status == 202, await resp.text()
    job_id = (await resp.json())["job_id"]
    job = await api.job(job_id)
    # greeting's start state fails a job without a name: the job ran, it was not refused
    assert job["status"] == "failed"
    assert job["error"]["code"] == "MISSING_FIELDS"


# -- listing --------------------------------------------------------------------------------


async def list_jobs(api: Api, **query: Any) -> dict[str, Any]:
    resp = await api.client.get(
        "/api/v1/jobs", params={k: str(v) for k, v in query.items()}, headers=client_headers()
    )
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def test_list_jobs_paginates_with_limit_offset_and_next_offset(api: Api) -> None:
    created = {await api.create() for _ in range(5)}

    seen: list[str] = []
    offset: int | None = 0
    pages = 0
    while offset is not None:
        page = await list_jobs(api, limit=2, offset=offset)
        assert page["limit"] == 2
        assert page["offset"] == offset
        assert len(page["jobs"]) <= 2
        seen += [j["job_id"] for j in page["jobs"]]
        offset = page["next_offset"]
        pages += 1
        assert pages <= 5, "pagination does not end"
    assert sorted(seen) == sorted(created), "every job exactly once"

    first = await list_jobs(api, limit=2)
    assert len(first["jobs"]) == 2
    assert first["next_offset"] == 2
    everything = await list_jobs(api, limit=50)
    assert len(everything["jobs"]) == 5
    assert everything["next_offset"] is None


async def test_list_jobs_filters_by_status_and_blueprint(api: Api) -> None:
    greet_a = await api.create()
    greet_b = await api.create()
    flaky = await api.create({"n": 1}, endpoint="v1/flaky")
    await api.register("lister", ["greet"])
    task = await api.take("lister")
    finished = task["job_id"]
    assert (await api.result(task, "lister", data={"greeting": "hi"})).status == 200
    waiting = ({greet_a, greet_b} - {finished}).pop()

    def ids(page: dict[str, Any]) -> set[str]:
        return {j["job_id"] for j in page["jobs"]}

    assert ids(await list_jobs(api, blueprint="flaky")) == {flaky}
    assert ids(await list_jobs(api, blueprint="greeting")) == {greet_a, greet_b}
    assert ids(await list_jobs(api, status="finished")) == {finished}
    assert ids(await list_jobs(api, status="waiting_for_worker")) == {waiting, flaky}
    assert ids(await list_jobs(api, status="waiting_for_worker", blueprint="greeting")) == {waiting}
    assert ids(await list_jobs(api, status="cancelled")) == set()
    assert ids(await list_jobs(api, blueprint="nope")) == set()


async def test_list_jobs_unknown_status_is_400_naming_the_field(api: Api) -> None:
    resp = await api.client.get(
        "/api/v1/jobs", params={"status": "done-ish"}, headers=client_headers()
    )
    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert "status" in err["message"]
    assert "finished" in err["message"], "the message lists the allowed statuses"


async def test_list_jobs_unknown_status_names_the_field_in_details(api: Api) -> None:
    resp = await api.client.get(
        "/api/v1/jobs", params={"status": "done-ish"}, headers=client_headers()
    )
    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"].get("field") == "status"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "1.5"}, "offset"),
    ],
)
async def test_list_jobs_bad_paging_is_400(api: Api, query: dict[str, str], field: str) -> None:
    resp = await api.client.get("/api/v1/jobs", params=query, headers=client_headers())
    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == field


# -- bad input on create --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"initial_data": "not an object"}, "initial_data"),
        ({"initial_data": [1, 2]}, "initial_data"),
        ({"dispatch_timeout": -1}, "dispatch_timeout"),
        ({"dispatch_timeout": 0}, "dispatch_timeout"),
        ({"dispatch_timeout": "10"}, "dispatch_timeout"),
        ({"dispatch_timeout": True}, "dispatch_timeout"),
        ({"result_timeout": -0.5}, "result_timeout"),
        ({"webhook_url": "ftp://example.com/hook"}, "webhook_url"),
        ({"webhook_url": "javascript:alert(1)"}, "webhook_url"),
        ({"webhook_url": "http://"}, "webhook_url"),
        ({"webhook_url": 42}, "webhook_url"),
        ({"initial_data": {}, "priority": 9}, "priority"),
    ],
)
async def test_create_with_a_bad_field_is_400_naming_it(
    api: Api, body: dict[str, Any], field: str
) -> None:
    resp = await api.client.post("/api/v1/greeting", json=body, headers=client_headers())
    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == field
    assert field in err["message"]
    assert (await list_jobs(api))["jobs"] == [], "a refused request must not create a job"


@pytest.mark.parametrize("raw", [b'{"initial_data": ', b"{'a': 1}", b"\xff\xfe", b"[1,]"])
async def test_create_with_malformed_json_is_400_invalid_json(api: Api, raw: bytes) -> None:
    resp = await api.client.post(
        "/api/v1/greeting",
        data=raw,
        headers={**client_headers(), "Content-Type": "application/json"},
    )
    await assert_error(resp, 400, "INVALID_JSON")
    assert (await list_jobs(api))["jobs"] == []


def nested(depth: int) -> bytes:
    """JSON objects nested ``depth`` deep: valid JSON, within the body limit."""
    return b'{"a": ' * depth + b"1" + b"}" * depth


async def test_create_with_deeply_nested_data_is_400(api: Api) -> None:
    raw = b'{"initial_data": {"name": "Ada", "deep": ' + nested(300) + b"}}"
    resp = await api.client.post(
        "/api/v1/greeting",
        data=raw,
        headers={**client_headers(), "Content-Type": "application/json"},
    )
    assert resp.status == 400, await resp.text()
    assert (await list_jobs(api))["jobs"] == []


@pytest.mark.parametrize("body", [[1, 2], "text", 3])
async def test_create_with_a_body_that_is_not_an_object_is_400(api: Api, body: Any) -> None:
    resp = await api.client.post("/api/v1/greeting", json=body, headers=client_headers())
    await assert_error(resp, 400, "VALIDATION_ERROR")


async def test_create_with_a_body_over_the_limit_is_413(api: Api) -> None:
    body = {"initial_data": {"name": "x" * 20_000}}  # the tests' limit is 16 KiB
    resp = await api.client.post("/api/v1/greeting", json=body, headers=client_headers())
    err = await assert_error(resp, 413, "PAYLOAD_TOO_LARGE")
    assert err["details"]["max_bytes"] == 16 * 1024
    assert (await list_jobs(api))["jobs"] == []


async def test_create_with_a_chunked_body_over_the_limit_is_413(api: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"initial_data": {"name": "'
        for _ in range(40):
            yield b"x" * 1024
        yield b'"}}'

    resp = await api.client.post(
        "/api/v1/greeting",
        data=chunks(),
        headers={**client_headers(), "Content-Type": "application/json"},
    )
    await assert_error(resp, 413, "PAYLOAD_TOO_LARGE")
    assert (await list_jobs(api))["jobs"] == []


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v2/greeting", "/api/v1/greeting/more"])
async def test_create_on_an_unknown_endpoint_is_404(api: Api, path: str) -> None:
    resp = await api.client.post(path, json={}, headers=client_headers())
    await assert_error(resp, 404, "BLUEPRINT_NOT_FOUND")


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        ("/api/v1/greting", "; did you mean /api/v1/greeting?"),
        ("/api/v2/greeting", "; did you mean /api/v1/greeting?"),
        ("/api/v1/nope", ""),
    ],
)
async def test_create_on_a_misspelt_endpoint_names_the_nearest_one(
    api: Api, path: str, hint: str
) -> None:
    resp = await api.client.post(path, json={}, headers=client_headers())
    err = await assert_error(resp, 404, "BLUEPRINT_NOT_FOUND")
    lists = "(GET /api/v1/blueprints lists them)"
    assert err["message"] == f"no blueprint answers {path}{hint} {lists}"


# -- cancel ---------------------------------------------------------------------------------


async def test_cancel_a_queued_task(api: Api) -> None:
    job_id = await api.create()
    resp = await api.cancel(job_id)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["status"] == "cancellation_request_accepted"
    job = await api.wait_status(job_id, "cancelled")
    assert job["finished_at"] is not None

    await api.register("after-cancel")
    resp = await api.poll("after-cancel", timeout=0.2)
    assert resp.status == 204, "the cancelled task must have left the queue"


async def test_cancel_a_leased_task_reaches_the_worker_websocket(api: Api) -> None:
    job_id = await api.create()
    await api.register("ws-worker")
    task = await api.take("ws-worker")
    ws = await api.client.ws_connect("/_worker/ws/ws-worker", headers=worker_headers())
    try:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        channel = api.store.keys.command_channel("ws-worker")

        async def subscribed() -> bool:
            counts = dict(await api.store.redis.pubsub_numsub(channel))
            return bool(counts.get(channel.encode()))

        await wait_for(subscribed, what="the socket's command channel to be subscribed")

        resp = await api.cancel(job_id)
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["status"] == "cancellation_request_sent"

        message = await ws.receive_json(timeout=5)
        assert message == {
            "type": "cancel_task",
            "job_id": job_id,
            "task_id": task["task_id"],
            "attempt": task["attempt"],
        }
    finally:
        await ws.close()
    await api.wait_status(job_id, "cancelled")

    late = await api.result(task, "ws-worker", data={"greeting": "too late"})
    await assert_error(late, 409, "TASK_NOT_HELD")
    assert (await api.job(job_id))["status"] == "cancelled"


async def test_cancel_a_leased_task_without_websocket_is_flagged_for_the_heartbeat(
    api: Api,
) -> None:
    job_id = await api.create()
    await api.register("hb-worker")
    task = await api.take("hb-worker")

    resp = await api.cancel(job_id)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["status"] == "cancellation_request_accepted"
    await api.wait_status(job_id, "cancelled")

    first = await api.heartbeat("hb-worker")
    assert first.status == 200, await first.text()
    cancelled = (await first.json())["cancelled_tasks"]
    assert [c["task_id"] for c in cancelled] == [task["task_id"]]
    assert cancelled[0]["job_id"] == job_id

    second = await api.heartbeat("hb-worker")
    assert second.status == 200
    assert (await second.json())["cancelled_tasks"] == [], "a cancel is reported once"


async def test_cancel_a_finished_job_is_409(api: Api) -> None:
    job_id = await api.create()
    await api.register("fin")
    task = await api.take("fin")
    assert (await api.result(task, "fin", data={"greeting": "hi"})).status == 200
    await api.wait_status(job_id, "finished")

    resp = await api.cancel(job_id)
    err = await assert_error(resp, 409, "JOB_ALREADY_TERMINAL")
    assert err["details"]["status"] == "finished"
    assert (await api.job(job_id))["status"] == "finished"


async def test_cancel_twice_is_409_the_second_time(api: Api) -> None:
    job_id = await api.create()
    assert (await api.cancel(job_id)).status == 200
    err = await assert_error(await api.cancel(job_id), 409, "JOB_ALREADY_TERMINAL")
    assert err["details"]["status"] == "cancelled"


async def test_cancel_an_unknown_job_is_404(api: Api) -> None:
    await assert_error(await api.cancel("no-such-job"), 404, "JOB_NOT_FOUND")


# -- timeouts -------------------------------------------------------------------------------


async def test_dispatch_timeout_fails_a_job_no_worker_takes(api: Api) -> None:
    job_id = await api.create(dispatch_timeout=0.2)
    job = await api.wait_status(job_id, "failed", timeout=5)
    assert job["error"]["code"] == "DISPATCH_TIMEOUT"
    assert job["finished_at"] is not None

    await api.register("too-late")
    resp = await api.poll("too-late", timeout=0.2)
    assert resp.status == 204, "the timed-out task must have left the queue"


async def test_dispatch_timeout_does_not_fire_once_a_worker_took_the_task(api: Api) -> None:
    taken = await api.create(dispatch_timeout=0.3)
    await api.register("quick")
    task = await api.take("quick")
    assert task["job_id"] == taken
    # A job created later with the same deadline, that no worker takes: once it has failed,
    # the earlier job's dispatch deadline has passed and been looked at too.
    witness = await api.create(dispatch_timeout=0.3)
    assert (await api.wait_status(witness, "failed"))["error"]["code"] == "DISPATCH_TIMEOUT"

    job = await api.job(taken)
    assert job["status"] == "waiting_for_worker"
    assert job["task"]["status"] == "leased"
    resp = await api.result(task, "quick", data={"greeting": "hi"})
    assert resp.status == 200, await resp.text()
    assert (await api.job(taken))["status"] == "finished"


async def test_result_timeout_fails_a_job_whose_task_never_answers(api: Api) -> None:
    job_id = await api.create(result_timeout=0.3)
    await api.register("silent")
    task = await api.take("silent")
    job = await api.wait_status(job_id, "failed", timeout=5)
    assert job["error"]["code"] == "RESULT_TIMEOUT"

    late = await api.result(task, "silent", data={"greeting": "late"})
    await assert_error(late, 409, "TASK_NOT_HELD")
    beat = await api.heartbeat("silent")
    assert [c["task_id"] for c in (await beat.json())["cancelled_tasks"]] == [task["task_id"]]


# -- blueprints -----------------------------------------------------------------------------


async def test_list_blueprints(api: Api) -> None:
    resp = await api.client.get("/api/v1/blueprints", headers=client_headers())
    assert resp.status == 200
    listed = {bp["name"]: bp for bp in await resp.json()}
    assert {"greeting", "flaky", "review"} <= set(listed)
    assert listed["greeting"]["endpoint"] == "/api/v1/greeting"


async def test_blueprint_graph_is_dot(api: Api) -> None:
    resp = await api.client.get("/api/v1/blueprints/greeting/graph", headers=client_headers())
    assert resp.status == 200
    assert resp.content_type == "text/vnd.graphviz"
    dot = await resp.text()
    assert "validate -> done" in dot
    assert "validate -> failed" in dot
    assert "digraph" in dot


async def test_graph_of_an_unknown_blueprint_is_404(api: Api) -> None:
    resp = await api.client.get("/api/v1/blueprints/nope/graph", headers=client_headers())
    await assert_error(resp, 404, "BLUEPRINT_NOT_FOUND")


async def test_blueprint_routes_need_a_client_token(make_api: MakeApi) -> None:
    api = await make_api()
    resp = await api.client.get("/api/v1/blueprints/greeting/graph")
    await assert_error(resp, 401, "MISSING_AUTH_HEADER")
