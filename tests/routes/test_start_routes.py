"""Declared start routes, app-level over real Redis: JSON and multipart bodies, the wait for
the job's outcome, error codes mapped to statuses, file parts with and without S3."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from orchestrator.api.route_forms import MAX_FILES
from tests.api.conftest import CLIENT_TOKEN, Api
from tests.routes.conftest import BEARER

AUTH = {"Authorization": BEARER}
TASK_UUID = "25a95214-6788-4798-83e2-bbe37bdb66dd"
GOOD = {"task_uuid": TASK_UUID, "notes": "ok", "isCall": True}


async def post_json(api: Api, path: str, body: Any, **headers: str) -> tuple[int, Any]:
    resp = await api.client.post(path, json=body, headers={**AUTH, **headers})
    return resp.status, await resp.json()


async def test_json_start_waits_and_answers_the_result_exactly(api: Api) -> None:
    await api.register("w1", ["route_send"])
    answer = asyncio.create_task(post_json(api, "/api/v1/validate-thing", GOOD))
    task = await api.take("w1", timeout=5)
    assert task["params"] == {"task_uuid": GOOD["task_uuid"]}
    resp = await api.result(task, "w1", data={"sent_to": ["op@example.com"]})
    assert resp.status == 200, await resp.text()
    status, body = await asyncio.wait_for(answer, 10)
    assert status == 200
    assert body == {
        "success": True,
        "code": "OK",
        "details": {"task_uuid": GOOD["task_uuid"], "sent_to": ["op@example.com"]},
    }


async def test_the_job_is_an_ordinary_job(api: Api) -> None:
    status, body = await post_json(api, "/api/v1/validate-thing", {**GOOD, "instant": True})
    assert status == 200, body
    jobs = await api.client.get("/api/v1/jobs", headers={"X-Client-Token": CLIENT_TOKEN})
    listed = (await jobs.json())["jobs"]
    assert [j["blueprint"] for j in listed] == ["route_audit"]
    job_id = listed[0]["job_id"]
    history = await api.client.get(f"/api/v1/jobs/{job_id}/history", headers=AUTH)
    types = [e["type"] for e in await history.json()]
    assert types[0] == "job_created" and types[-1] == "job_finished"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"notes": "x"}, 400, "MISSING_FIELDS"),
        ({**GOOD, "isCall": "yes"}, 400, "VALIDATION_ERROR"),
    ],
)
async def test_a_failure_answers_the_mapped_status(
    api: Api, body: dict[str, Any], status: int, code: str
) -> None:
    got, answer = await post_json(api, "/api/v1/validate-thing", body)
    assert got == status, answer
    assert answer["success"] is False and answer["code"] == code
    assert set(answer) == {"success", "code", "message"}
    assert answer["message"]


async def test_a_worker_failure_answers_its_mapped_status(api: Api) -> None:
    await api.register("w1", ["route_send"])
    answer = asyncio.create_task(post_json(api, "/api/v1/validate-thing", GOOD))
    task = await api.take("w1", timeout=5)
    error = {"code": "EMAIL_SEND_ERROR", "message": "to a@x failed", "retryable": False}
    await api.result(task, "w1", status="failure", error=error)
    status, body = await asyncio.wait_for(answer, 10)
    assert (status, body) == (
        502,
        {"success": False, "code": "EMAIL_SEND_ERROR", "message": "to a@x failed"},
    )
    api.statuses.clear()  # the 502 is the declared mapping, not a server error


async def test_an_unmapped_code_is_500_internal_error(api: Api) -> None:
    status, body = await post_json(api, "/api/v1/validate-thing", {**GOOD, "explode": True})
    assert status == 500
    assert body["success"] is False and body["code"] == "INTERNAL_ERROR"
    assert "KABOOM" in body["message"]
    api.statuses.clear()  # the 500 is the declared mapping, not a server error


async def test_past_the_wait_it_answers_202_with_the_status_url(api: Api) -> None:
    status, body = await post_json(api, "/api/v1/validate-thing-quickly", GOOD)
    assert status == 202, body
    assert body == {
        "job_id": body["job_id"],
        "status": "waiting_for_worker",
        "status_url": f"/api/v1/jobs/{body['job_id']}",
    }
    job = await api.client.get(body["status_url"], headers=AUTH)
    assert (await job.json())["status"] == "waiting_for_worker"


def form(
    fields: dict[str, str],
    files: dict[str, tuple[str, bytes]] | None = None,
    *,
    multipart: bool = True,
) -> Any:
    data = aiohttp.FormData(default_to_multipart=multipart)
    for name, value in fields.items():
        data.add_field(name, value)
    for name, (filename, content) in (files or {}).items():
        data.add_field(name, content, filename=filename, content_type="text/plain")
    return data


MULTIPART: dict[str, str] = {
    "task_uuid": TASK_UUID,
    "notes": "por formulario",
    "isCall": "true",
}


@pytest.mark.parametrize("multipart", [True, False], ids=["multipart", "urlencoded"])
async def test_form_fields_are_typed(api: Api, multipart: bool) -> None:
    fields = {**MULTIPART, "count": "3", "instant": "1"}
    data = form(fields, multipart=multipart)
    resp = await api.client.post("/api/v1/validate-thing", data=data, headers=AUTH)
    body = await resp.json()
    assert resp.status == 200, body
    assert body["details"] == {
        "task_uuid": TASK_UUID,
        "notes": "por formulario",
        "isCall": True,
        "count": 3,
        "instant": "1",  # undeclared: a string
        "attachments": [],
    }


@pytest.mark.parametrize(("field", "value"), [("isCall", "maybe"), ("count", "three")])
async def test_a_mistyped_form_field_is_400_naming_it(api: Api, field: str, value: str) -> None:
    fields = {**MULTIPART, field: value}
    resp = await api.client.post("/api/v1/validate-thing", data=form(fields), headers=AUTH)
    body = await resp.json()
    assert resp.status == 400, body
    assert body["code"] == "VALIDATION_ERROR" and body["message"].startswith(f"{field}:")


async def test_a_file_part_without_s3_is_501(api: Api) -> None:
    files = {"extra": ("notes.txt", b"hello")}
    resp = await api.client.post(
        "/api/v1/validate-thing", data=form(MULTIPART, files), headers=AUTH
    )
    body = await resp.json()
    assert resp.status == 501, body
    assert body["success"] is False and body["code"] == "S3_NOT_CONFIGURED"
    jobs = await api.client.get("/api/v1/jobs", headers=AUTH)
    assert (await jobs.json())["jobs"] == []  # refused before any job was made
    api.statuses.clear()  # 501 is the answer, not a server error


async def test_a_file_part_with_s3_becomes_a_job_file(s3_api: Api) -> None:
    api = s3_api
    files = {"extra": ("notes.txt", b"hello"), "more": ("b.txt", b"second file")}
    fields = {**MULTIPART, "instant": "1"}
    resp = await api.client.post("/api/v1/validate-thing", data=form(fields, files), headers=AUTH)
    body = await resp.json()
    assert resp.status == 200, body
    attachments = body["details"]["attachments"]
    assert [(a["field"], a["filename"], a["size"]) for a in attachments] == [
        ("extra", "notes.txt", 5),
        ("more", "b.txt", 11),
    ]
    jobs = await api.client.get("/api/v1/jobs", headers=AUTH)
    job_id = (await jobs.json())["jobs"][0]["job_id"]
    listing = await api.client.get(f"/api/v1/jobs/{job_id}/files", headers=AUTH)
    names = sorted(f["filename"] for f in (await listing.json())["files"])
    assert names == ["b.txt", "notes.txt"]


async def test_a_media_type_the_route_does_not_take_is_415(api: Api) -> None:
    resp = await api.client.post(
        "/api/v1/validate-thing-quickly",
        data=form(MULTIPART),
        headers=AUTH,
    )
    body = await resp.json()
    assert resp.status == 415, body
    assert body["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_a_body_that_is_not_an_object_is_400_in_the_route_shape(api: Api) -> None:
    status, body = await post_json(api, "/api/v1/validate-thing", [1, 2])
    assert status == 400
    assert body["success"] is False and body["code"] == "VALIDATION_ERROR"


async def test_a_json_body_without_its_media_type_is_read_as_json(api: Api) -> None:
    """As on the create route: ``curl -d`` sends no JSON media type."""
    raw = b'{"task_uuid": "t", "notes": "n", "isCall": true, "instant": true}'
    resp = await api.client.post(
        "/api/v1/validate-thing-quickly",
        data=raw,
        headers={**AUTH, "Content-Type": "text/plain"},
    )
    body = await resp.json()
    assert resp.status == 200, body
    assert body["details"]["isCall"] is True


async def test_an_idempotency_key_makes_one_job(api: Api) -> None:
    key = {"Idempotency-Key": "audit-77"}
    status, first = await post_json(api, "/api/v1/validate-thing-quickly", GOOD, **key)
    assert status == 202, first
    status, again = await post_json(api, "/api/v1/validate-thing-quickly", GOOD, **key)
    assert (status, again["job_id"]) == (202, first["job_id"])
    other = {**GOOD, "notes": "changed"}
    status, refused = await post_json(api, "/api/v1/validate-thing-quickly", other, **key)
    assert (status, refused["success"], refused["code"]) == (409, False, "IDEMPOTENCY_KEY_REUSED")


async def test_more_file_parts_than_allowed_are_refused(s3_api: Api) -> None:
    files = aiohttp.FormData(default_to_multipart=True)
    for name, value in MULTIPART.items():
        files.add_field(name, value)
    for i in range(MAX_FILES + 1):
        files.add_field(f"f{i}", b"x", filename=f"f{i}.txt", content_type="text/plain")
    resp = await s3_api.client.post("/api/v1/validate-thing", data=files, headers=AUTH)
    body = await resp.json()
    assert resp.status == 400, body
    assert body["code"] == "VALIDATION_ERROR" and str(MAX_FILES) in body["message"]
