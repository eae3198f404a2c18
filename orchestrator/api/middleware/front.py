"""The one middleware in front of every route. Each step is what a middleware of its own used
to do, in the same order (outermost first); one coroutine rather than five, as the layers
themselves were a good part of what a small request cost:

1. metrics: counts and times the answer the client gets, errors included;
2. errors: a request id, and every error below as the JSON envelope with its code;
3. body size: 413 for a declared body over ``max_body_bytes`` (``body.py``);
4. auth: the client or worker token (``auth.py``);
5. rate limit: the token buckets of /api requests that create work (``rate_limit.py``).
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from orchestrator.api.middleware.auth import CLIENT, Tokens
from orchestrator.api.middleware.body import check_size
from orchestrator.api.middleware.errors import (
    error_answer,
    http_error_answer,
    request_id,
    unexpected_error,
)
from orchestrator.api.middleware.handler import Handler
from orchestrator.api.middleware.metrics import route_group
from orchestrator.api.middleware.rate_limit import READS, RateLimiter
from orchestrator.api.render import json_response
from orchestrator.config import Settings
from orchestrator.errors import OrchestratorError
from orchestrator.metrics import Metrics
from orchestrator.storage.redis_store import RedisStore


class Front:
    """The middleware (``app.py`` installs one per app)."""

    __middleware_version__ = 1  # what ``@web.middleware`` marks: aiohttp's new-style call

    def __init__(self, settings: Settings, store: RedisStore, metrics: Metrics) -> None:
        self._tokens, self._limiter = Tokens(settings), RateLimiter(settings, store)
        self._max_body = settings.http.max_body_bytes
        self._record = metrics.http_request

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        group = route_group(request.path)
        started = time.perf_counter()
        status = 500
        try:
            rid = request_id(request)
            try:
                response: web.StreamResponse | None = None
                if self._checks(request, group):
                    limiter = self._limiter
                    response = await limiter.check(request[CLIENT], limiter.client_ip(request))
                if response is None:  # else the rate limit's refusal
                    response = await handler(request)
            except OrchestratorError as exc:
                response = error_answer(request, exc)
            except web.HTTPException as exc:
                if exc.status < 400:
                    raise
                response = await http_error_answer(request, exc)
            except Exception as exc:
                err = unexpected_error(exc, f"{request.method} {request.path}", rid)
                response = json_response(err.to_body(), status=err.status)
            if not response.prepared:
                response.headers["X-Request-Id"] = rid
            status = response.status
            return response
        except web.HTTPException as exc:  # redirects; the errors step renders the rest
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = 0  # the client went away: there is no answer to count
            raise
        finally:
            if status:
                self._record(group, status, time.perf_counter() - started)

    def _checks(self, request: web.Request, group: str) -> bool:
        """Steps 3 and 4 (raising their refusals); whether step 5 applies."""
        check_size(request, self._max_body)
        if group == "api":
            self._tokens.client(request)
            return self._limiter.enabled and request.method not in READS
        if group == "worker":
            self._tokens.worker(request)
        return False
