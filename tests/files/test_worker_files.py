"""/_worker file routes and the SDK's ``JobFiles``: a worker reaches a job's files while it
holds the job's task, and only then."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from orchestrator.s3 import PART_BYTES
from tests.api.conftest import W1_TOKEN, WORKER_TOKEN, Api, assert_error, worker_headers
from tests.files.bodies import download_link, fetch
from worker_sdk import JobFiles, WorkerSettings
from worker_sdk.errors import ApiError, AuthError, TaskNotHeld


def settings_for(api: Api, worker_id: str, token: str = WORKER_TOKEN) -> WorkerSettings:
    return WorkerSettings(url=str(api.client.make_url("/")), token=token, worker_id=worker_id)


async def held_job(api: Api, worker_id: str) -> tuple[str, dict[str, Any]]:
    """A job whose task ``worker_id`` holds."""
    await api.register(worker_id, ["greet"])
    job_id = await api.create()
    task = await api.take(worker_id)
    assert task["job_id"] == job_id
    return job_id, task


async def test_the_sdk_uploads_a_file_and_bytes_and_downloads_them(
    api: Api, tmp_path: Path
) -> None:
    job_id, _ = await held_job(api, "wf1")
    source = tmp_path / "input.bin"
    source.write_bytes(os.urandom(PART_BYTES + 1234))  # two parts: the multipart path

    async with JobFiles(settings_for(api, "wf1"), job_id) as files:
        from_file = await files.upload(source, "result.bin")
        from_bytes = await files.upload(b'{"ok": true}', "meta.json", content_type="text/json")
        saved = await files.download("result.bin", tmp_path / "copy.bin")

    data = source.read_bytes()
    assert (from_file.size, from_file.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert from_file.s3_uri.endswith(f"/{job_id}/result.bin")
    assert from_bytes.size == 12
    assert saved == tmp_path / "copy.bin" and saved.read_bytes() == data
    assert not (tmp_path / "copy.bin.part").exists()
    # the client who owns the job sees what the worker stored
    assert await fetch(await download_link(api, job_id, "meta.json")) == (200, b'{"ok": true}')


async def test_a_worker_without_the_jobs_task_is_refused(api: Api, tmp_path: Path) -> None:
    job_id, _ = await held_job(api, "wf1")
    await api.register("wf2", ["greet"])

    async with JobFiles(settings_for(api, "wf2"), job_id) as files:
        with pytest.raises(TaskNotHeld) as upload:
            await files.upload(b"x", "x.txt")
        with pytest.raises(TaskNotHeld):
            await files.download("x.txt", tmp_path / "x.txt")

    assert upload.value.code == "TASK_NOT_HELD"


async def test_after_its_result_the_worker_no_longer_reaches_the_files(api: Api) -> None:
    job_id, task = await held_job(api, "wf1")
    async with JobFiles(settings_for(api, "wf1"), job_id) as files:
        await files.upload(b"x", "x.txt")
        resp = await api.result(task, "wf1", data={"greeting": "hi"})
        assert resp.status == 200, await resp.text()

        with pytest.raises(TaskNotHeld):
            await files.upload(b"y", "y.txt")


async def test_a_token_bound_to_another_worker_is_refused(api: Api) -> None:
    job_id, _ = await held_job(api, "wf1")

    async with JobFiles(settings_for(api, "wf1", token=W1_TOKEN), job_id) as files:
        with pytest.raises(AuthError) as refused:
            await files.upload(b"x", "x.txt")

    assert (refused.value.http_status, refused.value.code) == (403, "WORKER_TOKEN_MISMATCH")


async def test_a_missing_file_is_reported(api: Api, tmp_path: Path) -> None:
    job_id, _ = await held_job(api, "wf1")

    async with JobFiles(settings_for(api, "wf1"), job_id) as files:
        with pytest.raises(ApiError) as missing:
            await files.download("nope.txt", tmp_path / "nope.txt")

    assert (missing.value.http_status, missing.value.code) == (404, "FILE_NOT_FOUND")
    assert not (tmp_path / "nope.txt").exists()


@pytest.mark.parametrize("name", ["../../workers/wf1/tasks/next", "a/b", "..", "a\\b"])
async def test_the_sdk_refuses_names_that_hold_a_path(api: Api, name: str) -> None:
    async with JobFiles(settings_for(api, "wf1"), "some-job") as files:
        with pytest.raises(ValueError, match="plain file name"):
            await files.upload(b"x", name)


async def test_names_the_sdk_passes_are_still_checked_by_the_orchestrator(api: Api) -> None:
    job_id, _ = await held_job(api, "wf1")

    async with JobFiles(settings_for(api, "wf1"), job_id) as files:
        with pytest.raises(ApiError) as refused:
            await files.upload(b"x", "a..b\x00")

    assert (refused.value.http_status, refused.value.code) == (400, "INVALID_FILENAME")


async def test_the_worker_id_header_is_required(api: Api) -> None:
    job_id, _ = await held_job(api, "wf1")
    url = f"/_worker/jobs/{job_id}/files/content/x.txt"

    resp = await api.client.put(url, data=b"x", headers=worker_headers())
    # the OpenAPI document can say "this header is required", not "this header or that
    # query parameter": the header is the one way
    by_query = await api.client.put(
        url, params={"worker_id": "wf1"}, data=b"x", headers=worker_headers()
    )
    by_header = await api.client.put(
        url, data=b"x", headers={**worker_headers(), "X-Worker-Id": "wf1"}
    )

    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"] == {"field": "X-Worker-Id"}
    await assert_error(by_query, 400, "VALIDATION_ERROR")
    assert by_header.status == 200, await by_header.text()


async def test_the_worker_download_link_redirects_to_s3(api: Api) -> None:
    job_id, _ = await held_job(api, "wf1")
    headers = {**worker_headers(), "X-Worker-Id": "wf1"}
    put = await api.client.put(
        f"/_worker/jobs/{job_id}/files/content/out.txt", data=b"done", headers=headers
    )
    assert put.status == 200, await put.text()

    resp = await api.client.get(
        f"/_worker/jobs/{job_id}/files/download/out.txt", headers=headers, allow_redirects=False
    )

    assert resp.status == 302
    assert await fetch(resp.headers["Location"]) == (200, b"done")
