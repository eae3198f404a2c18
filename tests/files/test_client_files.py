"""/api file routes against moto's S3 server over HTTP: presigned links, the streaming
upload, the stable download link, and who may reach which file."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest

from orchestrator.api.files import S3_FILES
from orchestrator.s3 import PART_BYTES
from tests.api.conftest import OTHER_CLIENT_TOKEN, Api, MakeApi, assert_error, client_headers
from tests.files.bodies import MiB, chunks, digest_of, download_link, fetch, put_content
from tests.files.conftest import BUCKET


async def test_a_presigned_put_url_stores_the_file_in_s3(api: Api, s3: Any) -> None:
    job_id = await api.create()

    resp = await api.client.get(
        f"/api/v1/jobs/{job_id}/files/upload",
        params={"filename": "report.pdf", "expires_in": "120"},
        headers=client_headers(),
    )

    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["method"] == "PUT"
    assert body["expires_in"] == 120
    prefix = api.app[S3_FILES].key_prefix
    key = f"{prefix}/{job_id}/report.pdf"
    assert body["s3_uri"] == f"s3://{BUCKET}/{key}"
    async with aiohttp.ClientSession() as session, session.put(body["url"], data=b"%PDF") as put:
        assert put.status == 200, await put.text()
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"%PDF"


async def test_expires_in_defaults_to_the_setting_and_is_capped(api: Api) -> None:
    job_id = await api.create()
    url = f"/api/v1/jobs/{job_id}/files/upload"

    default = await api.client.get(url, params={"filename": "a"}, headers=client_headers())
    too_long = await api.client.get(
        url, params={"filename": "a", "expires_in": str(8 * 24 * 3600)}, headers=client_headers()
    )

    assert (await default.json())["expires_in"] == 3600
    await assert_error(too_long, 400, "VALIDATION_ERROR")


async def test_a_streamed_upload_is_stored_whole_and_downloads_through_the_link(api: Api) -> None:
    job_id = await api.create()
    size = 2 * PART_BYTES + 3 * MiB + 7  # three parts, the last one short

    resp = await put_content(api, job_id, "data.bin", chunks(size, seed=b"x"))

    assert resp.status == 200, await resp.text()
    body = await resp.json()
    expected = await digest_of(size, seed=b"x")
    assert body["status"] == "uploaded"
    assert body["s3_uri"].startswith(f"s3://{BUCKET}/") and body["s3_uri"].endswith(
        f"/{job_id}/data.bin"
    )
    assert (body["size"], body["sha256"]) == (size, expected)
    status, content = await fetch(await download_link(api, job_id, "data.bin"))
    assert status == 200
    assert (len(content), hashlib.sha256(content).hexdigest()) == (size, expected)


async def test_a_small_upload_keeps_its_content_type(api: Api, s3: Any) -> None:
    job_id = await api.create()

    resp = await put_content(api, job_id, "note.txt", b"hello", **{"Content-Type": "text/plain"})

    assert resp.status == 200, await resp.text()
    key = (await resp.json())["s3_uri"].split("/", 3)[3]
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert (head["ContentLength"], head["ContentType"]) == (5, "text/plain")


async def test_an_empty_file_can_be_uploaded(api: Api) -> None:
    job_id = await api.create()

    resp = await put_content(api, job_id, "empty", b"")

    assert resp.status == 200, await resp.text()
    assert (await resp.json())["size"] == 0
    assert await fetch(await download_link(api, job_id, "empty")) == (200, b"")


async def test_the_download_link_of_a_missing_file_is_404(api: Api) -> None:
    job_id = await api.create()

    resp = await api.client.get(
        f"/api/v1/jobs/{job_id}/files/download/nothing.txt",
        headers=client_headers(),
        allow_redirects=False,
    )

    await assert_error(resp, 404, "FILE_NOT_FOUND")


async def test_the_listing_shows_the_jobs_files(api: Api) -> None:
    job_id = await api.create()
    for name, data in [("a.txt", b"1"), ("b c.txt", b"22")]:
        assert (await put_content(api, job_id, name, data)).status == 200

    resp = await api.client.get(f"/api/v1/jobs/{job_id}/files", headers=client_headers())

    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["truncated"] is False
    listed = {f["filename"]: (f["size"], f["download_url"]) for f in body["files"]}
    assert listed == {
        "a.txt": (1, f"/api/v1/jobs/{job_id}/files/download/a.txt"),
        "b c.txt": (2, f"/api/v1/jobs/{job_id}/files/download/b%20c.txt"),
    }


BAD_NAMES = ["..", "a..b", "%2E%2E", "a%2Fb", "..%2Fescape", "a%5Cb", "a%00b", "tab%09", "x" * 256]


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_bad_file_names_are_refused_on_every_route(api: Api, name: str) -> None:
    job_id = await api.create()
    base = f"/api/v1/jobs/{job_id}/files"
    headers = client_headers()
    url = api.client.make_url(f"{base}/content/{name}")
    # encoded=True keeps the escapes: the server must see "%2F", not a second path segment.
    put = await api.client.session.put(
        url.with_path(f"{base}/content/{name}", encoded=True), data=b"x", headers=headers
    )
    get = await api.client.session.get(
        url.with_path(f"{base}/download/{name}", encoded=True),
        headers=headers,
        allow_redirects=False,
    )
    presign = await api.client.get(
        f"{base}/upload", params={"filename": unquote(name)}, headers=headers
    )

    for resp in (put, get, presign):
        await assert_error(resp, 400, "INVALID_FILENAME")


async def test_a_missing_file_name_is_refused(api: Api) -> None:
    job_id = await api.create()

    resp = await api.client.get(f"/api/v1/jobs/{job_id}/files/upload", headers=client_headers())

    await assert_error(resp, 400, "INVALID_FILENAME")


async def test_another_clients_job_is_404_on_every_route(api: Api) -> None:
    job_id = await api.create()
    assert (await put_content(api, job_id, "mine.txt", b"secret")).status == 200
    other = client_headers(OTHER_CLIENT_TOKEN)
    base = f"/api/v1/jobs/{job_id}/files"

    answers = [
        await api.client.get(base, headers=other),
        await api.client.get(f"{base}/upload", params={"filename": "x"}, headers=other),
        await api.client.put(f"{base}/content/x", data=b"x", headers=other),
        await api.client.get(f"{base}/download/mine.txt", headers=other, allow_redirects=False),
    ]

    for resp in answers:
        await assert_error(resp, 404, "JOB_NOT_FOUND")


async def test_an_unknown_job_is_404(api: Api) -> None:
    resp = await api.client.put(
        "/api/v1/jobs/no-such-job/files/content/x", data=b"x", headers=client_headers()
    )

    await assert_error(resp, 404, "JOB_NOT_FOUND")


async def test_without_s3_every_route_is_501(make_api: MakeApi) -> None:
    api = await make_api()  # no s3_* settings
    job_id = await api.create()
    base = f"/api/v1/jobs/{job_id}/files"
    headers = client_headers()

    answers = [
        await api.client.get(base, headers=headers),
        await api.client.get(f"{base}/upload", params={"filename": "x"}, headers=headers),
        await api.client.put(f"{base}/content/x", data=b"x", headers=headers),
        await api.client.get(f"{base}/download/x", headers=headers, allow_redirects=False),
    ]

    for resp in answers:
        await assert_error(resp, 501, "S3_NOT_CONFIGURED")
    # 501 is the contract here, not a server fault: keep make_api's no-5xx check quiet.
    api.statuses[:] = [s for s in api.statuses if s[2] != 501]


async def test_the_file_routes_need_a_client_token(api: Api) -> None:
    job_id = await api.create()

    resp = await api.client.get(f"/api/v1/jobs/{job_id}/files/upload", params={"filename": "x"})

    await assert_error(resp, 401, "MISSING_AUTH_HEADER")
