"""The access log: one line per request, at INFO, on logger ``orchestrator.access``.

It names the method, path (without the query string), status, duration, request id, the
client (when one was identified), the peer address and, for a request about one job, its
``job_id``; never headers, tokens or bodies.
Given to the runner as ``access_log_class`` (see ``server.py``), replacing aiohttp's default
format, which logs the Referer and User-Agent headers.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from orchestrator.api.middleware import CLIENT

access_log = logging.getLogger("orchestrator.access")


class AccessLogger(AbstractAccessLogger):
    def __init__(self, logger: logging.Logger, log_format: str) -> None:
        # aiohttp passes its own logger and format; ours are fixed
        super().__init__(access_log, log_format)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        fields = {
            "method": request.method,
            "path": request.rel_url.raw_path,  # still %-encoded: no line breaks in logs
            "status": response.status,
            "duration_ms": round(time * 1000, 2),
            "request_id": response.headers.get("X-Request-Id", "-"),
            "client": request.get(CLIENT, "-"),
            "remote": request.remote or "-",
        }
        if job_id := _job_id(request):
            fields["job_id"] = job_id  # a request about one job: findable by its id
        self.logger.info(
            "%(method)s %(path)s %(status)s %(duration_ms).1fms client=%(client)s",
            fields,
            extra=fields,
        )


def _job_id(request: web.BaseRequest) -> str | None:
    try:
        # A request aiohttp could not parse never reached routing: it has no match info (a
        # plain BaseRequest has no such attribute; a web.Request asserts it was routed).
        job_id = request.match_info.get("job_id")  # type: ignore[attr-defined]
    except (AttributeError, AssertionError):
        return None
    return job_id if isinstance(job_id, str) else None
