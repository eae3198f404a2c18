"""``GET .../files/download/{name}?via=orchestrator``: the bytes through the orchestrator
(for a page that may talk to its own origin only), from moto's S3 server over HTTP."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from orchestrator.s3 import PART_BYTES
from tests.api.conftest import OTHER_CLIENT_TOKEN, Api, assert_error, client_headers
from tests.files.bodies import MiB, chunks, digest_of, put_content


async def through(api: Api, job_id: str, name: str, token: str | None = None) -> Any:
    return await api.client.get(
        f"/api/v1/jobs/{job_id}/files/download/{name}",
        params={"via": "orchestrator"},
        headers=client_headers(token) if token else client_headers(),
        allow_redirects=False,
    )


async def test_the_bytes_come_through_whole_as_an_attachment(api: Api) -> None:
    job_id = await api.create()
    size = PART_BYTES + 3 * MiB + 5  # more than one multipart part: many chunks through
    resp = await put_content(api, job_id, "résumé <b>.html", chunks(size, seed=b"d"))
    assert resp.status == 200, await resp.text()

    resp = await through(api, job_id, "r%C3%A9sum%C3%A9%20%3Cb%3E.html")
    assert resp.status == 200, await resp.text()
    content = await resp.read()
    assert (len(content), hashlib.sha256(content).hexdigest()) == (
        size,
        await digest_of(size, seed=b"d"),
    )
    assert resp.headers["Content-Length"] == str(size)
    # a file to save, never a page of this origin: no type to render, no sniffing, no script
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Security-Policy"].startswith("sandbox")
    assert resp.headers["Content-Disposition"] == (
        "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20%3Cb%3E.html"
    )
    assert resp.headers["Cache-Control"] == "no-store"


async def test_an_empty_file_comes_through_empty(api: Api) -> None:
    job_id = await api.create()
    assert (await put_content(api, job_id, "empty", b"")).status == 200
    resp = await through(api, job_id, "empty")
    assert (resp.status, await resp.read()) == (200, b"")


async def test_a_missing_file_another_clients_job_and_a_bad_via_are_refused(api: Api) -> None:
    job_id = await api.create()
    assert (await put_content(api, job_id, "mine.txt", b"mine")).status == 200
    await assert_error(await through(api, job_id, "nothing.txt"), 404, "FILE_NOT_FOUND")
    await assert_error(
        await through(api, job_id, "mine.txt", OTHER_CLIENT_TOKEN), 404, "JOB_NOT_FOUND"
    )
    resp = await api.client.get(
        f"/api/v1/jobs/{job_id}/files/download/mine.txt",
        params={"via": "carrier-pigeon"},
        headers=client_headers(),
        allow_redirects=False,
    )
    err = await assert_error(resp, 400, "VALIDATION_ERROR")
    assert err["details"] == {"field": "via"}
    # via=s3, like no via, is the redirect
    resp = await api.client.get(
        f"/api/v1/jobs/{job_id}/files/download/mine.txt",
        params={"via": "s3"},
        headers=client_headers(),
        allow_redirects=False,
    )
    assert resp.status == 302


@pytest.mark.parametrize("via", ["orchestrator", "s3"])
async def test_the_download_needs_a_client_token(api: Api, via: str) -> None:
    job_id = await api.create()
    resp = await api.client.get(
        f"/api/v1/jobs/{job_id}/files/download/x", params={"via": via}, allow_redirects=False
    )
    assert resp.status == 401
