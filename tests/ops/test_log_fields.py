"""Issue 7 §5/§6: short secrets do not corrupt the logs; lines about a job carry its id."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from orchestrator import Actions, Blueprint, BlueprintRegistry, create_app
from orchestrator.api.access import AccessLogger
from orchestrator.storage.redis_store import RedisStore
from tests.api.conftest import client_headers, worker_headers
from tests.conftest import delete_prefix
from tests.helpers import wait_for
from tests.ops.conftest import LogStream

log = logging.getLogger("orchestrator.test")

broken = Blueprint("broken", api_version="v1", api_endpoint="broken")


@broken.handler(start=True)
async def explode(initial_data: dict[str, Any], actions: Actions) -> None:
    logging.getLogger("my_flow").warning("about to fail")  # a blueprint author's own line
    if not initial_data.get("never"):
        raise RuntimeError("the handler broke")
    actions.go_to("finished")  # never taken: the blueprint must be valid to load


@broken.handler(end=True)
async def finished() -> dict[str, Any]:
    return {}


abandoned = Blueprint("abandoned", api_version="v1", api_endpoint="abandoned")


@abandoned.handler(start=True)
async def hand_out(actions: Actions) -> None:
    actions.dispatch_task("log_fields_task", {}, transitions={"success": "handed"})


@abandoned.handler(end=True)
async def handed() -> dict[str, Any]:
    return {}


def records(stream: LogStream) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stream.text.splitlines()]


def test_a_short_secret_is_redacted_as_a_whole_value_never_inside_text(
    log_stream: LogStream,
) -> None:
    # As docs/files.md shows for moto: a one-letter S3 secret.
    log_stream.configure(log_format="json", s3_access_key_id="k", s3_secret_access_key="x")

    log.warning("the next box is x-ray proof")
    log.warning("fields", extra={"s3_secret_access_key": "x", "value": "x", "note": "xx"})
    log.warning("named", extra={"client_token": "abc", "approval_secret": "zz"})

    lines = records(log_stream)
    assert lines[0]["message"] == "the next box is x-ray proof"
    assert lines[0]["logger"] == "orchestrator.test"
    assert (lines[1]["s3_secret_access_key"], lines[1]["value"], lines[1]["note"]) == (
        "***",
        "***",
        "xx",
    )
    assert (lines[2]["client_token"], lines[2]["approval_secret"]) == ("***", "***")


def test_long_secrets_are_still_redacted_inside_text(log_stream: LogStream) -> None:
    log_stream.configure(
        log_format="json", s3_access_key_id="k", s3_secret_access_key="s3cr3t-long-enough"
    )

    log.warning("key s3cr3t-long-enough in a message")

    assert records(log_stream)[0]["message"] == "key *** in a message"


@pytest.fixture
async def broken_app(
    aiohttp_client: Any, aiohttp_server: Any, redis_url: str, prefix: str
) -> AsyncIterator[TestClient[Any, Any]]:
    from tests.api.conftest import make_settings

    store = RedisStore(aioredis.Redis.from_url(redis_url), prefix)
    app = create_app(make_settings(), store, BlueprintRegistry([broken, abandoned]))
    server = await aiohttp_server(app, access_log_class=AccessLogger)
    client: TestClient[Any, Any] = await aiohttp_client(server)
    try:
        yield client
    finally:
        await client.close()
        await delete_prefix(redis_url, prefix)


async def test_json_lines_about_a_job_carry_its_job_id(
    broken_app: TestClient[Any, Any], log_stream: LogStream
) -> None:
    log_stream.configure(log_format="json")

    resp = await broken_app.post("/api/v1/broken", json={}, headers=client_headers())
    assert resp.status == 202, await resp.text()
    job_id = (await resp.json())["job_id"]
    status = await broken_app.get(f"/api/v1/jobs/{job_id}", headers=client_headers())
    assert (await status.json())["status"] == "failed"
    await wait_for(lambda: f"/api/v1/jobs/{job_id} " in log_stream.text, what="the access line")

    lines = records(log_stream)
    failed = [r for r in lines if "handler of broken.explode failed" in r["message"]]
    assert len(failed) == 1 and failed[0]["job_id"] == job_id
    own = [r for r in lines if r["logger"] == "my_flow"]
    assert len(own) == 1 and own[0]["job_id"] == job_id
    access = [r for r in lines if r["logger"] == "orchestrator.access"]
    assert [r.get("job_id") for r in access] == [None, job_id]  # the create names no job yet
    # nothing else gets a job id it is not about
    assert all(r.get("job_id") in (None, job_id) for r in lines)


async def test_a_lease_expiry_line_carries_the_job_id(
    broken_app: TestClient[Any, Any], log_stream: LogStream
) -> None:
    log_stream.configure(log_format="json")
    resp = await broken_app.post("/api/v1/abandoned", json={}, headers=client_headers())
    job_id = (await resp.json())["job_id"]
    body = {"worker_id": "w-gone", "supported_skills": ["log_fields_task"]}
    register = await broken_app.post(
        "/_worker/workers/register", json=body, headers=worker_headers()
    )
    assert register.status == 200, await register.text()
    taken = await broken_app.get(
        "/_worker/workers/w-gone/tasks/next", params={"timeout": "5"}, headers=worker_headers()
    )
    assert taken.status == 200, await taken.text()

    # The worker never heartbeats: its lease (1 s in these settings) runs out.
    await wait_for(lambda: "expired (worker w-gone)" in log_stream.text, 10, "the lease expiry")
    expired = [r for r in records(log_stream) if "expired (worker w-gone)" in r["message"]]
    assert [r["job_id"] for r in expired] == [job_id]
