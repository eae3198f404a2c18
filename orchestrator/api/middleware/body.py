"""Request bodies: 413 before the handler runs when the declared body is over
``max_body_bytes`` (``check_size``, called by the ``front`` middleware), and ``read_json``
for the handlers that take JSON.

aiohttp's ``client_max_size`` only bites when a handler reads the body (``read_json`` turns
that into 413 too, which also covers chunked bodies that declare no length). ``check_size``
refuses a ``Content-Length`` over the limit on every route, whether its handler reads the body
or not.
"""

from __future__ import annotations

from typing import TypeVar

import orjson
from aiohttp import web

from orchestrator.appkeys import SETTINGS
from orchestrator.errors import BadRequest, PayloadTooLarge

H = TypeVar("H")

_STREAMING: set[object] = set()


def streams_body(handler: H) -> H:
    """Marks a route handler that streams its body under a limit of its own (file uploads):
    the check below leaves it alone."""
    _STREAMING.add(handler)
    return handler


def check_size(request: web.Request, limit: int) -> None:
    """413 when the declared body is over ``limit``, unless the route streams its body."""
    length = request.content_length
    if length is not None and length > limit and request.match_info.handler not in _STREAMING:
        raise PayloadTooLarge(f"body larger than {limit} bytes", details={"max_bytes": limit})


async def read_json(request: web.Request, *, required: bool = True) -> object:
    """The request body as JSON; 400 names what is wrong, 413 when it is too big."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        limit = request.app[SETTINGS].http.max_body_bytes
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
    return parse_json(raw)


MAX_JSON_DEPTH = 64
"""orjson reads far deeper JSON than it can write back (254 levels): refuse it at the door."""


def parse_json(raw: bytes | str, what: str = "body", max_depth: int = MAX_JSON_DEPTH) -> object:
    """``raw`` as JSON; 400 ``INVALID_JSON`` when it is not, or nests deeper than
    ``max_depth``."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc}", code="INVALID_JSON") from exc
    if _too_deep(body, max_depth):
        raise BadRequest(
            f"{what} nests objects or arrays deeper than {max_depth} levels",
            code="INVALID_JSON",
            details={"max_depth": max_depth},
        )
    return body


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
