"""The seed's notification API (seed 000, "Notifications") as a small aiohttp app.

| route | answer |
|---|---|
| ``GET /notifications?skip=0&limit=100&user_id=`` | the notifications, newest first |
| ``POST /notifications`` | 201, the notification created |
| ``DELETE /notifications/{id}`` | ``{"success": true, "id"}``; 404 ``NOT_FOUND`` |
| ``DELETE /notifications?user_id=`` | ``{"success": true, "user_id", "deleted"}`` |
| ``PATCH /notifications/{id}`` | the notification, marked read (body ``{"read": false}`` unmarks) |
| ``GET /notifications/events?user_id=`` | Server-Sent Events (``created``, ``deleted``, ``read``, |
|  | ``unread``), a user's and the global ones with ``user_id`` |

Errors are the seed's shape, ``{"success": false, "code", "message"}``: 400
``VALIDATION_ERROR`` / ``MISSING_FIELDS``, 404 ``NOT_FOUND`` (a notification, or a route),
405 ``METHOD_NOT_ALLOWED``, 503 ``STORAGE_UNAVAILABLE`` while its Redis cannot be reached.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from orchestrator import sse
from orchestrator.blueprints.notifications import NoticeError, check
from orchestrator.blueprints.workers.notification_store import NotificationStore, next_event

STORE = web.AppKey("notification_store", NotificationStore)
KEEPALIVE_S = 15.0
"""A comment line this often keeps proxies from closing an idle event stream."""
MAX_LIMIT = 1000

log = logging.getLogger("notifier")


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def _error(status: int, code: str, message: str) -> web.Response:
    return _json({"success": False, "code": code, "message": message}, status)


def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise web.HTTPBadRequest(
            body=orjson.dumps(
                {
                    "success": False,
                    "code": "VALIDATION_ERROR",
                    "message": f"{name} must be an integer from {low} to {high} (got {raw!r})",
                }
            ),
            content_type="application/json",
        )
    return value


async def list_notifications(request: web.Request) -> web.Response:
    skip = _int(request, "skip", 0, 0, 10**9)
    limit = _int(request, "limit", 100, 1, MAX_LIMIT)
    user_id = request.query.get("user_id") or None
    return _json(await request.app[STORE].list(skip, limit, user_id))


async def create_notification(request: web.Request) -> web.Response:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        return _error(400, "VALIDATION_ERROR", f"the body is not JSON: {exc}")
    if not isinstance(body, dict):
        return _error(400, "VALIDATION_ERROR", "the body must be a JSON object")
    try:
        notice = check(body)
    except NoticeError as exc:
        return _error(400, exc.code, str(exc))
    return _json(await request.app[STORE].create(notice), 201)


async def delete_notification(request: web.Request) -> web.Response:
    notification_id = request.match_info["id"]
    if not await request.app[STORE].delete(notification_id):
        return _error(404, "NOT_FOUND", f"no notification {notification_id}")
    return _json({"success": True, "id": notification_id})


async def delete_for_user(request: web.Request) -> web.Response:
    user_id = request.query.get("user_id", "").strip()
    if not user_id:
        # Irreversible (the seed warns): no user_id must never mean "everyone".
        return _error(400, "MISSING_FIELDS", "missing required fields: user_id")
    deleted = await request.app[STORE].delete_for_user(user_id)
    return _json({"success": True, "user_id": user_id, "deleted": deleted})


async def mark_read(request: web.Request) -> web.Response:
    read = True
    raw = await request.read()
    if raw.strip():
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return _error(400, "VALIDATION_ERROR", f"the body is not JSON: {exc}")
        wanted = body.get("read", True) if isinstance(body, dict) else None
        if not isinstance(wanted, bool):
            return _error(400, "VALIDATION_ERROR", "read must be a boolean")
        read = wanted
    notification_id = request.match_info["id"]
    notification = await request.app[STORE].mark_read(notification_id, read)
    if notification is None:
        return _error(404, "NOT_FOUND", f"no notification {notification_id}")
    return _json(notification)


def _concerns(event: dict[str, Any], user_id: str | None) -> bool:
    notification = event["notification"]
    return user_id is None or notification["is_global"] or notification["user_id"] == user_id


async def events(request: web.Request) -> web.StreamResponse:
    user_id = request.query.get("user_id") or None
    pubsub = await request.app[STORE].subscribe()

    async def write(response: web.StreamResponse) -> None:
        # Subscribed before this line is sent: a client that reads it misses no change.
        await response.write(b": connected\n\n")
        while True:
            event = await next_event(pubsub, wait_s=KEEPALIVE_S)
            if event is None:
                await response.write(b": keepalive\n\n")
            elif _concerns(event, user_id):
                data = orjson.dumps(event["notification"])
                await response.write(sse.frame(data, event=event["event"]))

    try:
        return await sse.stream(request, write)  # ends quietly when the client goes away
    finally:
        await request.app[STORE].close_subscription(pubsub)


@web.middleware
async def seed_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own refusals (an unknown route, a method a route lacks) and a Redis that
    cannot be reached, in the seed's error shape rather than plain text or a 500."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        if isinstance(exc, web.HTTPMethodNotAllowed):
            allowed = ", ".join(sorted(exc.allowed_methods))
            message = f"{request.method} is not allowed on {request.path} (allowed: {allowed})"
            answer = _error(405, "METHOD_NOT_ALLOWED", message)
            answer.headers["Allow"] = ",".join(sorted(exc.allowed_methods))
            return answer
        if isinstance(exc, web.HTTPNotFound):
            return _error(404, "NOT_FOUND", f"no route {request.method} {request.path}")
        return _error(exc.status, "BAD_REQUEST", exc.reason)
    except (RedisConnectionError, RedisTimeoutError) as exc:
        log.warning("notification storage unavailable: %s", exc)
        return _error(503, "STORAGE_UNAVAILABLE", f"the notification store is unavailable: {exc}")


def create_app(store: NotificationStore) -> web.Application:
    app = web.Application(middlewares=[seed_errors])
    app[STORE] = store
    app.router.add_get("/notifications/events", events)
    app.router.add_get("/notifications", list_notifications)
    app.router.add_post("/notifications", create_notification)
    app.router.add_delete("/notifications", delete_for_user)
    app.router.add_delete("/notifications/{id}", delete_notification)
    app.router.add_patch("/notifications/{id}", mark_read)
    return app
