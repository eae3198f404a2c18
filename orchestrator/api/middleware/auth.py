"""Who is asking: a client token on /api, a worker token on /_worker (/_public is open)."""

from __future__ import annotations

import hmac

from aiohttp import hdrs, web

from orchestrator.api.middleware.handler import Handler
from orchestrator.appkeys import SETTINGS
from orchestrator.errors import Forbidden, Unauthorized

CLIENT = web.RequestKey("client", str)
WORKER_BINDING = web.RequestKey("worker_binding", str)
"""The worker id a per-worker token is bound to; "" for the global token."""


def _matches(given: str, expected: str) -> bool:
    # aiohttp hands over header bytes that are not UTF-8 as surrogate escapes
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


@web.middleware
async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    settings = request.app[SETTINGS]
    if path.startswith("/api/"):
        token = _client_token(request)
        name = None
        for client in settings.auth.clients:  # compare with every token: no early exit leaks
            if _matches(token, client.token) and name is None:
                name = client.name
        if name is None:
            raise Unauthorized("invalid client token (X-Client-Token or Authorization: Bearer)")
        request[CLIENT] = name
    elif path.startswith("/_worker/"):
        token = request.headers.get("X-Worker-Token", "")
        binding = None
        if token and settings.auth.worker_token and _matches(token, settings.auth.worker_token):
            binding = ""
        for worker_id, expected in settings.auth.worker_tokens.items():
            if token and _matches(token, expected) and binding is None:
                binding = worker_id
        if binding is None:
            raise Unauthorized(
                "missing or invalid X-Worker-Token" if token else "X-Worker-Token header missing"
            )
        request[WORKER_BINDING] = binding
    return await handler(request)


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
