"""Server-Sent Events responses, the same way for every SSE route.

A client leaving a stream (a closed tab, ``curl ... | head``, a proxy timing out) is how every
stream ends sooner or later: it is not an error. aiohttp reports it as a ``ConnectionError``
(``ClientConnectionResetError``) from the next write, often much later, when an event comes.
Left to the error middleware it would log a traceback and count a 500. :func:`stream` ends
such a stream quietly instead: the access log keeps its ``200`` and no 5xx is counted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

__all__ = ["HEADERS", "frame", "stream"]

log = logging.getLogger("orchestrator.sse")

HEADERS: Mapping[str, str] = {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # tell proxies (nginx) not to buffer the stream
}

Writer = Callable[[web.StreamResponse], Awaitable[None]]
"""Writes a stream's events to the prepared response, and returns when the stream is over."""


async def stream(request: web.Request, write: Writer) -> web.StreamResponse:
    """Answers ``request`` with an event stream that ``write`` fills.

    Check everything that can refuse the request (auth, 404, a bad query) *before* calling
    this: once the stream is prepared, the status is 200 for good.
    """
    response = web.StreamResponse(headers=dict(HEADERS))
    try:
        await response.prepare(request)
        await write(response)
        await response.write_eof()
    except ConnectionError:
        # The client left; there is nobody to tell anything, and nothing went wrong here.
        log.debug("event stream client left: %s %s", request.method, request.path)
    return response


def frame(
    data: str | bytes, *, event: str | None = None, event_id: str | int | None = None
) -> bytes:
    """One SSE message: ``id:``, ``event:`` and ``data:`` lines, then the blank line."""
    body = data.encode() if isinstance(data, str) else data
    head = b""
    if event_id is not None:
        head += f"id: {event_id}\n".encode()
    if event is not None:
        head += f"event: {event}\n".encode()
    return head + b"data: " + body + b"\n\n"
