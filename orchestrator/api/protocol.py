"""JSON errors for requests that never reach the application.

aiohttp answers a request it cannot parse (a bad request line, an unknown method, a header
over its size limit) from its connection handler, before any middleware runs, with a plain
text 400. aiohttp offers no public hook for that answer (aio-libs/aiohttp#3287), so
``JsonErrorsRunner`` serves connections with a ``RequestHandler`` whose ``handle_error``
rewrites the answer into the API's error envelope.

The hook rests on aiohttp internals (``AppRunner._make_server``, ``Server._kwargs``); each
step falls back to aiohttp's own plain answer if they change, so an aiohttp upgrade can
lose the JSON shape but never serving. ``tests/e2e/test_malformed_requests.py`` pins it.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from orchestrator.api.middleware.errors import protocol_error_answer, request_id

log = logging.getLogger("orchestrator.api")


class JsonErrorsRequestHandler(RequestHandler):
    __slots__ = ()

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
