"""Logging set up from ``Settings``: text or JSON lines, request ids, secrets redacted.

Every record handled here gets ``request_id`` (from the request being served, if any), and
its message, arguments, extra fields and traceback text are scrubbed of the configured
tokens before any formatter sees them.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

import orjson

from orchestrator.config import Settings

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
"""Set by the ``errors`` middleware for the request being served."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
REDACTED = "***"

# Attributes every LogRecord has; anything else on a record came in through ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}

# Tokens that are not configured but show up anyway, e.g. a header pasted into a message.
_TOKEN_HEADER = re.compile(r"(?i)(x-(?:client|worker)-token[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}]+")


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value in the settings that must never reach a log."""
    found = [c.token for c in settings.clients]
    found += [settings.worker_token or "", *settings.worker_tokens.values()]
    found += [settings.approval_secret, settings.s3_secret_access_key or ""]
    return [s for s in found if s]


class Redact(logging.Filter):
    """Adds ``request_id`` and replaces secrets with ``***``; attach it to handlers (a
    logger's filters do not see records propagated from its children)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # longest first, so that a token holding another one is replaced whole
        ordered = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._secrets = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def scrub(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        return _TOKEN_HEADER.sub(rf"\g<1>{REDACTED}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            setattr(record, "request_id", REQUEST_ID.get() or "-")  # noqa: B010 (not a field)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it when formatting
            return True
        record.msg, record.args = self.scrub(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, self.scrub(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, extra fields, and
    ``exc_info`` (the traceback text) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        entry.update((k, v) for k, v in record.__dict__.items() if k not in _STANDARD)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = record.stack_info
        return orjson.dumps(entry, default=str).decode()


def build_handler(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(Redact(secrets_of(settings)))
    return handler


_installed: list[logging.Handler] = []


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Sends every log record to ``stream`` (stderr) at ``settings.log_level`` and up.

    Replaces a handler installed by an earlier call, and no other (test runners keep theirs).
    """
    root = logging.getLogger()
    while _installed:
        root.removeHandler(_installed.pop())
    handler = build_handler(settings, stream)
    root.addHandler(handler)
    _installed.append(handler)
    root.setLevel(settings.log_level)
    return handler
