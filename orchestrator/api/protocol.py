"""JSON errors for requests that never reach the application, and when a request reached the
process.

aiohttp answers a request it cannot parse (a bad request line, an unknown method, a header
over its size limit) from its connection handler, before any middleware runs, with a plain
text 400. aiohttp offers no public hook for that answer (aio-libs/aiohttp#3287), so
``JsonErrorsRunner`` serves connections with a ``RequestHandler`` whose ``handle_error``
rewrites the answer into the API's error envelope.

The hook rests on aiohttp internals (``AppRunner._make_server``, ``Server._kwargs``); each
step falls back to aiohttp's own plain answer if they change, so an aiohttp upgrade can
lose the JSON shape but never serving. ``tests/e2e/test_malformed_requests.py`` pins it.

The same handler notes when each request's bytes were read (``read_ago``): under a burst,
a request waits seconds behind the others between being read and reaching its handler (10,000
long-polls at once: 1.5-2 s), and a long-poll's timeout counts from when it came, as its
worker counts it, not from when its handler got to it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from orchestrator.api.middleware.errors import protocol_error_answer, request_id

log = logging.getLogger("orchestrator.api")


def read_ago(request: BaseRequest) -> float:
    """Seconds since the request's bytes were read; 0 if its connection is not served by
    ``JsonErrorsRequestHandler`` (the test client's)."""
    at = getattr(request.protocol, "read_at", None)
    return time.monotonic() - at if isinstance(at, float) else 0.0


class JsonErrorsRequestHandler(RequestHandler):
    __slots__ = ("read_at",)

    def data_received(self, data: bytes) -> None:
        # the last bytes read before a request's handler runs are that request's: a client
        # sends its next request once it has the answer to the one before
        self.read_at = time.monotonic()
        super().data_received(data)

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> StreamResponse:
        # aiohttp's own logs it, and raises when part of an answer went out already
        plain = super().handle_error(request, status, exc, message)
        try:
            answer = protocol_error_answer(plain.status, exc)
            # as every answer does, though no header of the request could be read to give one
            answer.headers["X-Request-Id"] = request_id(request)
            return answer
        except Exception:  # a bug here must not cost the client its answer
            log.exception("cannot render the %d answer as JSON", plain.status)
            return plain


class JsonErrorsServer(web.Server):
    def __call__(self) -> RequestHandler:
        try:
            return JsonErrorsRequestHandler(self, loop=self._loop, **self._kwargs)
        except (AttributeError, TypeError):  # aiohttp's internals changed
            return super().__call__()


class JsonErrorsRunner(web.AppRunner):
    """An ``AppRunner`` whose connections answer unparsable requests in the envelope."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        try:
            kwargs: dict[str, Any] = dict(server._kwargs)
            return JsonErrorsServer(
                server.request_handler,
                request_factory=server.request_factory,
                handler_cancellation=server.handler_cancellation,
                loop=server._loop,
                **kwargs,
            )
        except (AttributeError, TypeError):
            log.warning("aiohttp changed: requests it cannot parse get its plain-text 400")
            return server
