"""413 before the handler runs when the declared body is over ``max_body_bytes``.

aiohttp's ``client_max_size`` only bites when a handler reads the body (``read_json`` turns
that into 413 too, which also covers chunked bodies that declare no length). This refuses a
``Content-Length`` over the limit on every route, whether its handler reads the body or not.
"""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web

from orchestrator.api.middleware import Handler
from orchestrator.appkeys import SETTINGS
from orchestrator.errors import PayloadTooLarge

H = TypeVar("H")

_STREAMING: set[object] = set()


def streams_body(handler: H) -> H:
    """Marks a route handler that streams its body under a limit of its own (file uploads):
    the check below leaves it alone."""
    _STREAMING.add(handler)
    return handler


@web.middleware
async def body_size(request: web.Request, handler: Handler) -> web.StreamResponse:
    limit = request.app[SETTINGS].max_body_bytes
    length = request.content_length
    if length is not None and length > limit and request.match_info.handler not in _STREAMING:
        raise PayloadTooLarge(f"body larger than {limit} bytes", details={"max_bytes": limit})
    return await handler(request)
