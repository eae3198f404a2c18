"""Error envelope, request ids and token checks for every route."""

from __future__ import annotations

import hmac
import itertools
import logging
import os
import re
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import hdrs, web
from redis.exceptions import RedisError

from orchestrator.api.render import json_response
from orchestrator.appkeys import REGISTRY, SETTINGS
from orchestrator.errors import (
    BadRequest,
    Forbidden,
    OrchestratorError,
    PayloadTooLarge,
    Unauthorized,
    Unavailable,
)
from orchestrator.logs import REQUEST_ID

log = logging.getLogger("orchestrator.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CLIENT = web.RequestKey("client", str)
WORKER_BINDING = web.RequestKey("worker_binding", str)
"""The worker id a per-worker token is bound to; "" for the global token."""

ERROR_SHAPES: dict[object, Callable[[web.Request, OrchestratorError], web.Response]] = {}
"""Route handler → how it renders an error (``routes_declared.py``); others use the envelope.
One entry per declared route of each app made: a handful, even in a test run."""

_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
# Our own request ids: a random prefix per process and a counter, unique across processes
# without a uuid4 (a getrandom system call) per request.
_ID_PREFIX = os.urandom(4).hex()
_ID_COUNTER = itertools.count(1)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    given = request.headers.get("X-Request-Id", "")
    # A caller's id is kept only when short and plain: it is echoed and goes in every log line.
    request_id = given if _REQUEST_ID.fullmatch(given) else f"{_ID_PREFIX}{next(_ID_COUNTER):08x}"
    REQUEST_ID.set(request_id)  # every record logged while serving this request carries it
    try:
        response = await handler(request)
    except OrchestratorError as exc:
        shape = ERROR_SHAPES.get(request.match_info.handler)
        if shape is not None:  # a route a blueprint declared answers in its own shape
            response = shape(request, exc)
        else:
            response = json_response(exc.to_body(), status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allowed = await _allowed(request) if isinstance(exc, web.HTTPMethodNotAllowed) else None
        status = 404 if allowed == set() else exc.status
        code = _HTTP_CODES.get(status, f"HTTP_{status}")
        message = exc.reason if status != 404 else f"no route {request.method} {request.path}"
        details = {"allowed": sorted(allowed)} if allowed else {}
        body = {"error": {"code": code, "message": message, "details": details}}
        response = json_response(body, status=status)
        if allowed:
            # RFC 9110 15.5.6: a 405 says which methods the resource does support
            response.headers[hdrs.ALLOW] = ", ".join(sorted(allowed))
    except RedisError as exc:
        log.error("storage error on %s %s [%s]: %s", request.method, request.path, request_id, exc)
        err = Unavailable("storage is not answering; try again", code="STORAGE_UNAVAILABLE")
        response = json_response(err.to_body(), status=503)
    except Exception:
        log.exception("unhandled error on %s %s [%s]", request.method, request.path, request_id)
        body = {
            "error": {
                "code": "INTERNAL_ERROR",
                "message": "internal error; the log has the details",
                "details": {"request_id": request_id},
            }
        }
        response = json_response(body, status=500)
    if not response.prepared:
        response.headers["X-Request-Id"] = request_id
    return response


CREATE_ROUTE = "/api/{version}/{endpoint}"


async def _allowed(request: web.Request) -> set[str]:
    """The methods the requested path answers. ``POST /api/{version}/{endpoint}`` matches
    every /api path, but only counts where a blueprint answers: elsewhere it would be a 404."""
    parts = request.path.split("/", 3)
    creates = (
        len(parts) == 4
        and parts[1] == "api"
        and request.app[REGISTRY].for_route(parts[2], parts[3]) is not None
    )
    methods: set[str] = set()
    for resource in request.app.router.resources():
        if resource.canonical == CREATE_ROUTE and not creates:
            continue
        _, allowed = await resource.resolve(request)
        methods |= allowed
    return methods


def _matches(given: str, expected: str) -> bool:
    # aiohttp hands over header bytes that are not UTF-8 as surrogate escapes
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


@web.middleware
async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    settings = request.app[SETTINGS]
    if path.startswith("/api/"):
        token = _client_token(request)
        name = None
        for client in settings.clients:  # compare with every token: no early exit leaks
            if _matches(token, client.token) and name is None:
                name = client.name
        if name is None:
            raise Unauthorized("invalid client token (X-Client-Token or Authorization: Bearer)")
        request[CLIENT] = name
    elif path.startswith("/_worker/"):
        token = request.headers.get("X-Worker-Token", "")
        binding = None
        if token and settings.worker_token and _matches(token, settings.worker_token):
            binding = ""
        for worker_id, expected in settings.worker_tokens.items():
            if token and _matches(token, expected) and binding is None:
                binding = worker_id
        if binding is None:
            raise Unauthorized(
                "missing or invalid X-Worker-Token" if token else "X-Worker-Token header missing"
            )
        request[WORKER_BINDING] = binding
    return await handler(request)


def _client_token(request: web.Request) -> str:
    """``X-Client-Token``, else the token of ``Authorization: Bearer <token>`` (seed 000's
    clients send that); 401 ``MISSING_AUTH_HEADER`` when neither is there."""
    token = request.headers.get("X-Client-Token", "")
    if token:
        return token
    authorization = request.headers.get(hdrs.AUTHORIZATION, "")
    if not authorization:
        raise Unauthorized(
            "send the client token as Authorization: Bearer <token> or X-Client-Token",
            code="MISSING_AUTH_HEADER",
        )
    scheme, _, bearer = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not bearer.strip():
        raise Unauthorized("the Authorization header must be: Bearer <client token>")
    return bearer.strip()


def require_worker(request: web.Request, worker_id: str) -> None:
    """A token bound to one worker id cannot act as another worker."""
    bound = request[WORKER_BINDING]
    if bound and bound != worker_id:
        raise Forbidden(
            f"this worker token belongs to worker {bound!r}, not {worker_id!r}",
            code="WORKER_TOKEN_MISMATCH",
        )


async def read_json(request: web.Request, *, required: bool = True) -> object:
    """The request body as JSON; 400 names what is wrong, 413 when it is too big."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        limit = request.app[SETTINGS].max_body_bytes
        raise PayloadTooLarge(
            f"body larger than {limit} bytes", details={"max_bytes": limit}
        ) from exc
    if not raw:
        if required:
            raise BadRequest("a JSON body is required", code="INVALID_JSON")
        return None
    if not raw.strip():
        # Only a body of zero bytes means "no body": whitespace is JSON text that is missing
        # its value, and taking it for `{}` would start a job nobody described.
        what = "a JSON body is required" if required else "send JSON or no body at all"
        raise BadRequest(f"body holds only whitespace: {what}", code="INVALID_JSON")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}", code="INVALID_JSON") from exc
    if _too_deep(body, MAX_JSON_DEPTH):
        raise BadRequest(
            f"body nests objects or arrays deeper than {MAX_JSON_DEPTH} levels",
            code="INVALID_JSON",
            details={"max_depth": MAX_JSON_DEPTH},
        )
    return body


MAX_JSON_DEPTH = 64
"""orjson reads far deeper JSON than it can write back (254 levels): refuse it at the door."""


def _too_deep(value: object, limit: int) -> bool:
    todo: list[tuple[object, int]] = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                todo.append((child, depth + 1))
    return False
