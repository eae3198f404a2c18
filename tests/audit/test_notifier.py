"""The notifier process's notification API (seed 000) and its event stream, on real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer

from orchestrator.blueprints.workers import notifier
from orchestrator.blueprints.workers.notification_api import create_app
from orchestrator.blueprints.workers.notification_store import NotificationStore
from tests.audit.conftest import AuditEnv
from tests.conftest import delete_prefix
from tests.helpers import free_port
from worker_sdk.testing import run_task


def user() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


async def call(
    http: aiohttp.ClientSession, env: AuditEnv, method: str, path: str, **kwargs: Any
) -> tuple[int, Any]:
    async with http.request(method, env.notifier_url + path, **kwargs) as r:
        return r.status, await r.json()


async def test_create_list_read_and_delete(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    ana, bob = user(), user()
    created = []
    for text, owner in [("one", ana), ("two", ana), ("other", bob)]:
        status, body = await call(
            http,
            audit_env,
            "POST",
            "/notifications",
            json={"text": text, "variant": "success", "user_id": owner},
        )
        assert status == 201, body
        created.append(body)
    status, wide = await call(
        http,
        audit_env,
        "POST",
        "/notifications",
        json={"text": "all", "variant": "info", "is_global": True},
    )
    assert status == 201 and wide["user_id"] is None and wide["is_global"] is True

    one = created[0]
    assert set(one) == {"id", "text", "variant", "user_id", "is_global", "read", "created_at"}
    assert (one["text"], one["variant"], one["user_id"], one["read"]) == (
        "one",
        "success",
        ana,
        False,
    )
    # A user's list: theirs and the global ones, newest first, paged with skip/limit.
    _, listed = await call(http, audit_env, "GET", "/notifications", params={"user_id": ana})
    assert [n["text"] for n in listed][:3] == ["all", "two", "one"]
    _, page = await call(
        http, audit_env, "GET", "/notifications", params={"user_id": ana, "skip": "1", "limit": "1"}
    )
    assert [n["text"] for n in page] == ["two"]

    status, read = await call(http, audit_env, "PATCH", f"/notifications/{one['id']}")
    assert status == 200 and read["read"] is True
    status, unread = await call(
        http, audit_env, "PATCH", f"/notifications/{one['id']}", json={"read": False}
    )
    assert status == 200 and unread["read"] is False

    status, body = await call(http, audit_env, "DELETE", f"/notifications/{created[1]['id']}")
    assert (status, body) == (200, {"success": True, "id": created[1]["id"]})
    status, body = await call(http, audit_env, "DELETE", f"/notifications/{created[1]['id']}")
    assert status == 404 and body["code"] == "NOT_FOUND" and body["success"] is False

    status, body = await call(http, audit_env, "DELETE", "/notifications", params={"user_id": ana})
    assert (status, body) == (200, {"success": True, "user_id": ana, "deleted": 1})
    _, left = await call(http, audit_env, "GET", "/notifications", params={"user_id": ana})
    assert "one" not in [n["text"] for n in left] and "all" in [n["text"] for n in left]
    _, bobs = await call(http, audit_env, "GET", "/notifications", params={"user_id": bob})
    assert "other" in [n["text"] for n in bobs], "another user's notifications stay"


async def test_a_global_notification_naming_a_user_is_everyones(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    ana, bob = user(), user()
    body = {"text": f"for all, from {ana}", "user_id": ana, "is_global": True}
    status, made = await call(http, audit_env, "POST", "/notifications", json=body)
    assert status == 201, made

    _, bobs = await call(http, audit_env, "GET", "/notifications", params={"user_id": bob})
    _, deleted = await call(http, audit_env, "DELETE", "/notifications", params={"user_id": ana})

    assert made["id"] in [n["id"] for n in bobs]
    assert deleted["deleted"] == 0, "deleting a user's notifications leaves the global ones"
    await call(http, audit_env, "DELETE", f"/notifications/{made['id']}")


async def test_refusals(audit_env: AuditEnv, http: aiohttp.ClientSession) -> None:
    cases = [
        (
            "POST",
            "/notifications",
            {"json": {"text": "no one"}},
            400,
            "VALIDATION_ERROR",
            "user_id is required unless is_global is true",
        ),
        (
            "POST",
            "/notifications",
            {"json": {"text": "x", "variant": "loud", "is_global": True}},
            400,
            "VALIDATION_ERROR",
            "variant must be one of success, info, warning, error (got 'loud')",
        ),
        ("POST", "/notifications", {"data": b"{not json"}, 400, "VALIDATION_ERROR", None),
        ("DELETE", "/notifications", {}, 400, "MISSING_FIELDS", "missing required fields: user_id"),
        ("GET", "/notifications", {"params": {"limit": "0"}}, 400, "VALIDATION_ERROR", None),
        ("PATCH", "/notifications/nope", {}, 404, "NOT_FOUND", "no notification nope"),
        ("GET", "/notificationz", {}, 404, "NOT_FOUND", "no route GET /notificationz"),
        (
            "PUT",
            "/notifications",
            {},
            405,
            "METHOD_NOT_ALLOWED",
            "PUT is not allowed on /notifications (allowed: DELETE, GET, HEAD, POST)",
        ),
        (
            "PATCH",
            "/notifications/nope",
            {"json": {"read": "yes"}},
            400,
            "VALIDATION_ERROR",
            "read must be a boolean",
        ),
    ]
    for method, path, kwargs, want_status, code, message in cases:
        status, body = await call(http, audit_env, method, path, **kwargs)
        assert (status, body["success"], body["code"]) == (want_status, False, code), (
            method,
            path,
            body,
        )
        if message is not None:
            assert body["message"] == message


async def events(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """``(event, data)`` of each event of an SSE stream (comments skipped)."""
    name, data = "", b""
    async for line in response.content:
        line = line.rstrip(b"\n")
        if line.startswith(b"event: "):
            name = line[7:].decode()
        elif line.startswith(b"data: "):
            data = line[6:]
        elif not line and name:
            yield name, orjson.loads(data)
            name, data = "", b""


async def test_the_event_stream_tells_a_user_of_theirs_and_the_global_ones(
    audit_env: AuditEnv, http: aiohttp.ClientSession
) -> None:
    ana, bob = user(), user()
    url = f"{audit_env.notifier_url}/notifications/events"
    async with http.get(url, params={"user_id": ana}) as stream:
        assert stream.status == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert await stream.content.readline() == b": connected\n"  # subscribed from here on
        _, mine = await call(
            http, audit_env, "POST", "/notifications", json={"text": "a", "user_id": ana}
        )
        await call(http, audit_env, "POST", "/notifications", json={"text": "b", "user_id": bob})
        _, wide = await call(
            http, audit_env, "POST", "/notifications", json={"text": "c", "is_global": True}
        )
        await call(http, audit_env, "PATCH", f"/notifications/{mine['id']}")
        await call(http, audit_env, "DELETE", f"/notifications/{mine['id']}")
        await call(http, audit_env, "DELETE", f"/notifications/{wide['id']}")

        seen = []
        async with asyncio.timeout(10):
            async for event in events(stream):
                seen.append((event[0], event[1]["text"]))
                if len(seen) == 5:
                    break

    assert seen == [
        ("created", "a"),
        ("created", "c"),
        ("read", "a"),
        ("deleted", "a"),
        ("deleted", "c"),
    ]


async def test_the_notify_task_needs_a_user_or_global() -> None:
    outcome = await run_task(notifier.worker, "notify", {"text": "hello", "variant": "info"})

    assert outcome.status == "failure"
    assert outcome.error is not None
    assert outcome.error.code == "VALIDATION_ERROR"
    assert outcome.error.message == "user_id is required unless is_global is true"


async def test_a_notify_task_run_twice_posts_one_notification(
    redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFIER_REDIS_URL", redis_url)
    monkeypatch.setenv("NOTIFIER_PREFIX", f"{prefix}:notifications")
    monkeypatch.setattr(notifier, "_store", None)
    params = {"text": "validated", "variant": "success", "user_id": "u-twice"}
    try:
        first = await run_task(notifier.worker, "notify", params, task_id="job-1.4", attempt=1)
        again = await run_task(notifier.worker, "notify", params, task_id="job-1.4", attempt=2)
        other = await run_task(notifier.worker, "notify", params, task_id="job-2.4")
        store = notifier._store
        assert store is not None
        listed = await store.list(0, 10, "u-twice")
    finally:
        if notifier._store is not None:
            await notifier._store.redis.aclose()
        await delete_prefix(redis_url, prefix)

    assert first.data is not None and again.data is not None and other.data is not None
    assert first.data == again.data  # the stored one, created_at and all
    assert other.data["notification"]["id"] != first.data["notification"]["id"]
    assert [n["id"] for n in listed] == [
        other.data["notification"]["id"],
        first.data["notification"]["id"],
    ]


async def test_without_a_redis_url_the_notifier_keeps_notifications_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NOTIFIER_REDIS_URL", raising=False)
    monkeypatch.setattr(notifier, "_store", None)
    params = {"text": "first try", "is_global": True}

    done = await run_task(notifier.worker, "notify", params, task_id="job-9.1")
    store = notifier._store
    assert store is not None
    try:
        listed = await store.list(0, 10, None)
    finally:
        await store.redis.aclose()

    assert done.ok and done.data is not None
    assert [n["id"] for n in listed] == [done.data["notification"]["id"]]
    assert type(store.redis).__module__.startswith("fakeredis")


async def test_a_redis_that_cannot_be_reached_is_a_503_in_the_seeds_shape(
    http: aiohttp.ClientSession,
) -> None:
    gone = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    server = TestServer(create_app(NotificationStore(gone)), host="127.0.0.1")
    await server.start_server()
    try:
        async with http.get(str(server.make_url("/notifications"))) as r:
            status, body = r.status, await r.json()
    finally:
        await server.close()
        await gone.aclose()
    assert (status, body["success"], body["code"]) == (503, False, "STORAGE_UNAVAILABLE")
    assert body["message"].startswith("the notification store is unavailable: ")
