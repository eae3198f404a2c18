"""What every request goes through before its route, outermost first (``app.py``):

1. ``metrics.http_metrics``: counts and times the answer the client gets;
2. ``errors.errors``: request ids, and every error as the JSON envelope with its code;
3. ``body.body_size``: 413 for a declared body over ``max_body_bytes``;
4. ``auth.auth``: the client or worker token;
5. ``rate_limit.rate_limit``: the token buckets of /api requests that create work.

Route handlers use ``CLIENT`` (who is asking), ``require_worker`` and ``read_json``.
"""

from orchestrator.api.middleware.auth import CLIENT, WORKER_BINDING, auth, require_worker
from orchestrator.api.middleware.body import body_size, read_json, streams_body
from orchestrator.api.middleware.errors import ERROR_SHAPES, errors
from orchestrator.api.middleware.handler import Handler
from orchestrator.api.middleware.metrics import http_metrics, route_group
from orchestrator.api.middleware.rate_limit import RateLimiter, rate_limit

__all__ = [
    "CLIENT",
    "ERROR_SHAPES",
    "WORKER_BINDING",
    "Handler",
    "RateLimiter",
    "auth",
    "body_size",
    "errors",
    "http_metrics",
    "rate_limit",
    "read_json",
    "require_worker",
    "route_group",
    "streams_body",
]
