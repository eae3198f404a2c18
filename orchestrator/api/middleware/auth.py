"""Who is asking: a client token on /api, a worker token on /_worker (/_public is open);
checked by the ``front`` middleware (``front.py``)."""

from __future__ import annotations

import hmac

from aiohttp import hdrs, web

from orchestrator.config import Settings
from orchestrator.errors import Forbidden, Unauthorized

CLIENT = web.RequestKey("client", str)
WORKER_BINDING = web.RequestKey("worker_binding", str)
"""The worker id a per-worker token is bound to; "" for the global token."""


class Tokens:
    """The tokens of ``settings``, encoded once: every /api and /_worker request is checked
    against all of them (no early exit: how long a check takes must not tell which matched)."""

    def __init__(self, settings: Settings) -> None:
        auth = settings.auth
        self._clients = [(c.name, c.token.encode()) for c in auth.clients]
        # the global worker token binds to no worker id (""), and wins over a per-worker one
        workers = [("", auth.worker_token)] if auth.worker_token else []
        self._workers = [(w, t.encode()) for w, t in [*workers, *auth.worker_tokens.items()]]

    def client(self, request: web.Request) -> None:
        """Names the client (``CLIENT``) of an /api request, or 401."""
        token = _encoded(_client_token(request))
        name = None
        for client, expected in self._clients:
            if hmac.compare_digest(token, expected) and name is None:
                name = client
        if name is None:
            raise Unauthorized("invalid client token (X-Client-Token or Authorization: Bearer)")
        request[CLIENT] = name

    def worker(self, request: web.Request) -> None:
        """Names the worker the token is bound to (``WORKER_BINDING``) on /_worker, or 401."""
        token = request.headers.get("X-Worker-Token", "")
        binding = None
        if token:
            given = _encoded(token)
            for worker_id, expected in self._workers:
                if hmac.compare_digest(given, expected) and binding is None:
                    binding = worker_id
        if binding is None:
            raise Unauthorized(
                "missing or invalid X-Worker-Token" if token else "X-Worker-Token header missing"
            )
        request[WORKER_BINDING] = binding


def _encoded(given: str) -> bytes:
    # aiohttp hands over header bytes that are not UTF-8 as surrogate escapes
    return given.encode("utf-8", "surrogateescape")


def _client_token(request: web.Request) -> str:
    """``X-Client-Token``, else the token of ``Authorization: Bearer <token>`` (seed 000's
    clients send that); 401 ``MISSING_AUTH_HEADER`` when neither is there."""
    token = request.headers.get("X-Client-Token", "")
    if token:
        return token
    authorization = request.headers.get(hdrs.AUTHORIZATION, "")
    if not authorization:
        raise Unauthorized(
            "send the client token as Authorization: Bearer <token> or X-Client-Token",
            code="MISSING_AUTH_HEADER",
        )
    scheme, _, bearer = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not bearer.strip():
        raise Unauthorized("the Authorization header must be: Bearer <client token>")
    return bearer.strip()


def require_worker(request: web.Request, worker_id: str) -> None:
    """A token bound to one worker id cannot act as another worker."""
    bound = request[WORKER_BINDING]
    if bound and bound != worker_id:
        raise Forbidden(
            f"this worker token belongs to worker {bound!r}, not {worker_id!r}",
            code="WORKER_TOKEN_MISMATCH",
        )
