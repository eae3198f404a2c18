"""Errors that reach users, each with a stable code and an HTTP status.

The tree, by status; every code and what it means is in ``error_codes.py``::

    OrchestratorError (500 INTERNAL_ERROR)
     ├─ BadRequest (400)
     ├─ Unauthorized (401 UNAUTHORIZED unless given another)
     ├─ Forbidden (403)
     ├─ NotFound (404 NOT_FOUND unless given another)
     ├─ Conflict (409)
     ├─ Gone (410)
     ├─ PayloadTooLarge (413 PAYLOAD_TOO_LARGE)
     ├─ RateLimited (429 RATE_LIMITED; the response carries Retry-After)
     └─ Unavailable (503)

A class without a code of its own is always raised with one (``code=``), which
``tests/unit/test_error_codes.py`` checks against ``error_codes.CODES``.

``BlueprintError`` is raised at load time for a broken blueprint; it never reaches HTTP."""

from __future__ import annotations

from typing import Any


class OrchestratorError(Exception):
    """Base error: rendered as ``{"error": {"code", "message", "details"}}``."""

    status = 500
    code = "INTERNAL_ERROR"

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(OrchestratorError):
    status = 400


class Unauthorized(OrchestratorError):
    status = 401
    code = "UNAUTHORIZED"


class Forbidden(OrchestratorError):
    status = 403


class NotFound(OrchestratorError):
    status = 404
    code = "NOT_FOUND"


class Conflict(OrchestratorError):
    status = 409


class Gone(OrchestratorError):
    status = 410


class PayloadTooLarge(OrchestratorError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class RateLimited(OrchestratorError):
    status = 429
    code = "RATE_LIMITED"


class Unavailable(OrchestratorError):
    status = 503


class BlueprintError(Exception):
    """A blueprint that cannot run; lists every problem found, not just the first."""

    def __init__(self, blueprint: str, problems: list[str]) -> None:
        self.blueprint = blueprint
        self.problems = problems
        if len(problems) == 1:
            text = f"Invalid blueprint {blueprint!r}: {problems[0]}"
        else:
            listed = "\n".join(f"  - {p}" for p in problems)
            text = f"Invalid blueprint {blueprint!r} ({len(problems)} problems):\n{listed}"
        super().__init__(text)


class ConfigError(Exception):
    """Bad configuration; the message lists every bad setting."""

    @classmethod
    def listing(cls, title: str, problems: list[str]) -> ConfigError:
        """One problem on one line (``title: problem``), several on a line each."""
        if len(problems) == 1:
            return cls(f"{title}: {problems[0]}")
        return cls(f"{title}:\n" + "\n".join(f"  - {p}" for p in problems))


class StartupError(Exception):
    """The server cannot start for a reason the operator must fix (Redis unreachable, port
    taken); the message says what, where and what to do, in one line."""
