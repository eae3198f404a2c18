"""Errors as answers (for the ``front`` middleware, ``front.py``): every error becomes the JSON
envelope with its code (a route a blueprint declared renders its own shape), and every request
gets an id that its log lines carry and its answer echoes."""

from __future__ import annotations

import itertools
import logging
import os
import re
from collections.abc import Callable
from http import HTTPStatus

from aiohttp import hdrs, web
from redis.exceptions import RedisError

from orchestrator.api.render import json_response
from orchestrator.appkeys import REGISTRY
from orchestrator.errors import OrchestratorError, Unavailable
from orchestrator.logs import REQUEST_ID

log = logging.getLogger("orchestrator.api")

ERROR_SHAPES: dict[object, Callable[[web.Request, OrchestratorError], web.Response]] = {}
"""Route handler → how it renders an error (``routes_declared.py``); others use the envelope.
One entry per declared route of each app made: a handful, even in a test run."""

_HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
}
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
# Our own request ids: a random prefix per process and a counter, unique across processes
# without a uuid4 (a getrandom system call) per request.
_ID_PREFIX = os.urandom(4).hex()
_ID_COUNTER = itertools.count(1)


def request_id(request: web.BaseRequest) -> str:
    """The request's id, which every record logged while serving it carries from now on."""
    given = request.headers.get("X-Request-Id", "")
    # A caller's id is kept only when short and plain: it is echoed and goes in every log line.
    rid = given if _REQUEST_ID.fullmatch(given) else f"{_ID_PREFIX}{next(_ID_COUNTER):08x}"
    REQUEST_ID.set(rid)
    return rid


def error_answer(request: web.Request, exc: OrchestratorError) -> web.Response:
    shape = ERROR_SHAPES.get(request.match_info.handler)
    if shape is not None:  # a route a blueprint declared answers in its own shape
        return shape(request, exc)
    return json_response(exc.to_body(), status=exc.status)


async def http_error_answer(request: web.Request, exc: web.HTTPException) -> web.Response:
    """aiohttp's own errors (no route, wrong method, body too large) in the JSON envelope."""
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
    return response


def protocol_error_answer(status: int, exc: BaseException | None) -> web.Response:
    """What a request aiohttp could not parse (a bad request line, an unknown method, a
    header over its limit) answers, in the envelope: aiohttp answers it before any
    middleware runs (``protocol.py`` hooks it in)."""
    code = _HTTP_CODES.get(status) or ("INTERNAL_ERROR" if status == 500 else f"HTTP_{status}")
    # aiohttp's message names what was wrong, then quotes the bytes it stopped at: keep only
    # the name, as those bytes may be anything
    reason = str(getattr(exc, "message", "") or "").strip().splitlines()
    named = reason[0].split(": b'")[0].rstrip(":. ")[:200] if reason else ""
    message = named if named and status < 500 else HTTPStatus(status).phrase
    body = {"error": {"code": code, "message": message, "details": {}}}
    response = json_response(body, status=status)
    response.force_close()  # the connection cannot carry another request
    return response


def unexpected_error(exc: Exception, where: str, request_id: str) -> OrchestratorError:
    """What a handler's exception other than an ``OrchestratorError`` answers: 503 when
    storage failed, else 500 naming only the request id (the traceback goes to the log).
    Call it from the ``except`` block, so the log has the traceback."""
    if isinstance(exc, RedisError):
        log.error("storage error on %s [%s]: %s", where, request_id, exc)
        return Unavailable("storage is not answering; try again", code="STORAGE_UNAVAILABLE")
    log.exception("unhandled error on %s [%s]", where, request_id)
    return OrchestratorError(
        "internal error; the log has the details", details={"request_id": request_id}
    )


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
