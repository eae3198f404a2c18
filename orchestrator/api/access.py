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
        match_info = getattr(request, "match_info", None)  # a plain BaseRequest has none
        job_id = match_info.get("job_id") if match_info is not None else None
        if job_id:
            fields["job_id"] = job_id  # a request about one job: findable by its id
        self.logger.info(
            "%(method)s %(path)s %(status)s %(duration_ms).1fms client=%(client)s",
            fields,
            extra=fields,
        )
