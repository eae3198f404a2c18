"""What every request goes through before its route: one middleware, ``front.Front``
(``app.py``), doing in this order, outermost first:

1. metrics: counts and times the answer the client gets (``metrics.py``);
2. errors: request ids, and every error as the JSON envelope with its code (``errors.py``);
3. body size: 413 for a declared body over ``max_body_bytes`` (``body.py``);
4. auth: the client or worker token (``auth.py``);
5. rate limit: the token buckets of /api requests that create work (``rate_limit.py``).

Route handlers use ``CLIENT`` (who is asking), ``require_worker`` and ``read_json``.
"""

from orchestrator.api.middleware.auth import CLIENT, WORKER_BINDING, require_worker
from orchestrator.api.middleware.body import read_json, streams_body
from orchestrator.api.middleware.errors import ERROR_SHAPES
from orchestrator.api.middleware.front import Front
from orchestrator.api.middleware.handler import Handler
from orchestrator.api.middleware.metrics import route_group
from orchestrator.api.middleware.rate_limit import RateLimiter

__all__ = [
    "CLIENT",
    "ERROR_SHAPES",
    "Front",
    "WORKER_BINDING",
    "Handler",
    "RateLimiter",
    "read_json",
    "require_worker",
    "route_group",
    "streams_body",
]
