"""HMAC-SHA256 signatures of webhook deliveries, and ``verify`` for receivers.

Standard library only, so a receiver can copy this file as it is. A delivery carries::

    X-Webhook-Timestamp: 1767225600                  (unix seconds when it was sent)
    X-Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>

The timestamp is signed with the body, so an old delivery cannot be replayed with a fresh
timestamp; ``verify`` refuses timestamps further than ``tolerance_s`` from now.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Webhook-Timestamp"
SIGNATURE_HEADER = "X-Webhook-Signature"
ID_HEADER = "X-Webhook-Id"
"""The same for every attempt of one delivery: ``<job id>:<event id>``; receivers dedupe on it."""
SCHEME = "v1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Webhook-Signature`` value of ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    return f"{SCHEME}={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


class Signer:
    """``signature`` with one secret, its key schedule worked out once rather than per call."""

    def __init__(self, secret: str) -> None:
        self._keyed = hmac.new(secret.encode(), digestmod=hashlib.sha256)

    def __call__(self, timestamp: int, body: bytes) -> str:
        mac = self._keyed.copy()
        mac.update(b"%d." % timestamp)
        mac.update(body)
        return f"{SCHEME}={mac.hexdigest()}"


def verify(
    secret: str,
    timestamp: str,
    signature_header: str,
    body: bytes,
    tolerance_s: float = 300,
    now: float | None = None,
) -> bool:
    """True when ``signature_header`` signs ``body`` and ``timestamp`` with ``secret``, and
    the timestamp is within ``tolerance_s`` of ``now``.

    ``body`` is the raw request body, before any JSON parsing. The header may list several
    comma-separated ``v1=`` values (as during a secret rotation); one match is enough.
    """
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance_s:
        return False
    expected = signature(secret, sent, body)
    offered = [part.strip() for part in signature_header.split(",")]
    # compare every candidate: no early exit that would time which one matched
    return any([hmac.compare_digest(expected, candidate) for candidate in offered])
