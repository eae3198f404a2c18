"""The streaming upload's own limit, and what is left in S3 when an upload fails half-way:
nothing, not even the parts of an aborted multipart upload."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from orchestrator.appkeys import SETTINGS
from orchestrator.s3 import PART_BYTES
from tests.api.conftest import CLIENT_TOKEN, Api, MakeApi, assert_error
from tests.files.bodies import MiB, chunks, put_content
from tests.files.conftest import BUCKET
from tests.helpers import wait_for


def leftovers(s3: Any, prefix: str) -> tuple[int, list[Any]]:
    """(objects, pending multipart uploads) under ``prefix``."""
    objects = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("KeyCount", 0)
    pending = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix).get("Uploads", [])
    return objects, pending


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_an_upload_over_the_limit_is_413_and_leaves_nothing(
    make_api: MakeApi, s3_settings: dict[str, Any], s3: Any, declared: bool
) -> None:
    api = await make_api(**s3_settings, s3_max_upload_bytes=PART_BYTES + MiB)
    job_id = await api.create()
    size = PART_BYTES + 2 * MiB  # one part goes to S3 before the limit is reached
    data = os.urandom(size) if declared else chunks(size)

    resp = await put_content(api, job_id, "big.bin", data)

    err = await assert_error(resp, 413, "PAYLOAD_TOO_LARGE")
    assert err["details"]["max_bytes"] == PART_BYTES + MiB
    assert await asyncio.to_thread(leftovers, s3, s3_settings["s3_key_prefix"]) == (0, [])


async def test_a_client_that_disconnects_mid_upload_leaves_nothing(
    api: Api, s3_settings: dict[str, Any], s3: Any
) -> None:
    job_id = await api.create()
    prefix = s3_settings["s3_key_prefix"]
    server = api.client.server
    _, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(
        f"PUT /api/v1/jobs/{job_id}/files/content/cut.bin HTTP/1.1\r\n"
        f"Host: {server.host}\r\nX-Client-Token: {CLIENT_TOKEN}\r\n"
        f"Content-Length: {4 * PART_BYTES}\r\n\r\n".encode()
    )
    async for piece in chunks(PART_BYTES + MiB):  # past the first part: a multipart upload
        writer.write(piece)
        await writer.drain()

    async def started() -> bool:
        return bool((await asyncio.to_thread(leftovers, s3, prefix))[1])

    await wait_for(started, 10, "the multipart upload to start")
    writer.close()
    await writer.wait_closed()

    async def cleaned() -> bool:
        return await asyncio.to_thread(leftovers, s3, prefix) == (0, [])

    await wait_for(cleaned, 10, "the multipart upload to be aborted")


async def test_uploads_are_not_bound_by_max_body_bytes(api: Api) -> None:
    job_id = await api.create()
    assert api.app[SETTINGS].http.max_body_bytes < MiB  # the api fixture keeps JSON bodies small

    declared = await put_content(api, job_id, "a.bin", os.urandom(2 * MiB))
    chunked = await put_content(api, job_id, "b.bin", chunks(2 * MiB))

    assert declared.status == 200, await declared.text()
    assert chunked.status == 200, await chunked.text()
