"""Logging set up from ``Settings``: text or JSON lines, request ids, secrets redacted.

Every record handled here gets ``request_id`` (from the request being served, if any) and
``job_id`` (from the job whose handlers run, if any), and its message, arguments, extra fields
and traceback text are scrubbed of the configured secrets before any formatter sees them.

Secrets are replaced wherever they appear only when they are long enough to be told apart
from ordinary text (``MIN_SUBSTRING``): a secret ``x`` must not turn every "x" into ``***``.
Shorter ones are redacted as whole values: an extra field equal to one, and every field
named like a secret (``token``, ``client_token``, ``approval_secret``, ...).
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
from aiohttp.http_exceptions import HttpProcessingError

from orchestrator.config import Settings

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
"""Set by the ``errors`` middleware for the request being served."""

JOB_ID: ContextVar[str] = ContextVar("job_id", default="")
"""Set by the runner while a job's handlers run: what they log is about that job."""

MIN_SUBSTRING = 8
"""Shortest secret replaced inside text; shorter ones only as a field's whole value."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
REDACTED = "***"

# Attributes every LogRecord has; anything else on a record came in through ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "job_id",
}

# Fields whose whole value is a secret, whatever its length.
_SECRET_FIELD = re.compile(r"(?i)(?:^|_)(?:token|secret|password|secret_access_key)$")

# Tokens that are not configured but show up anyway, e.g. a header pasted into a message.
_TOKEN_HEADER = re.compile(
    r"(?i)(x-(?:client|worker)-token[\"']?\s*[:=]\s*[\"']?|\bbearer\s+)[^\s\"',;}]+"
)


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value in the settings that must never reach a log."""
    found = [c.token for c in settings.auth.clients]
    found += [settings.auth.worker_token or "", *settings.auth.worker_tokens.values()]
    found += [settings.auth.approval_secret, settings.s3.secret_access_key or ""]
    return [s for s in found if s]


class Redact(logging.Filter):
    """Adds ``request_id`` and replaces secrets with ``***``; attach it to handlers (a
    logger's filters do not see records propagated from its children)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        given = {s for s in secrets if s}
        self._whole = frozenset(given)
        # longest first, so that a token holding another one is replaced whole
        ordered = sorted((s for s in given if len(s) >= MIN_SUBSTRING), key=len, reverse=True)
        self._secrets = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def scrub(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        return _TOKEN_HEADER.sub(rf"\g<1>{REDACTED}", text)

    def scrub_field(self, name: str, value: str) -> str:
        if value in self._whole or (value and _SECRET_FIELD.search(name)):
            return REDACTED
        return self.scrub(value)

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            setattr(record, "request_id", REQUEST_ID.get() or "-")  # noqa: B010 (not a field)
        if not getattr(record, "job_id", "") and JOB_ID.get():
            setattr(record, "job_id", JOB_ID.get())  # noqa: B010 (not a field)
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
                setattr(record, name, self.scrub_field(name, value))
        return True


class ClientMistakes(logging.Filter):
    """On ``aiohttp.server``: a request aiohttp cannot parse (a malformed header, a bad
    request line) is the client's mistake, answered 4xx. It becomes one INFO line instead of
    an ERROR with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError) or not 400 <= exc.code < 500:
            return True
        detail = " ".join(str(exc.message).split())  # aiohttp's text spans several lines
        record.msg = f"{record.getMessage()}: answered {exc.code}: {detail}"
        record.args = ()
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.INFO, "INFO"
        return logging.getLogger(record.name).isEnabledFor(logging.INFO)


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
        job_id = getattr(record, "job_id", "")
        if job_id:
            entry["job_id"] = job_id
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
    if settings.logs.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(Redact(secrets_of(settings)))
    return handler


_installed: list[logging.Handler] = []


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Sends every log record to ``stream`` (stderr) at ``settings.logs.level`` and up.

    Replaces a handler installed by an earlier call, and no other (test runners keep theirs).
    """
    root = logging.getLogger()
    while _installed:
        root.removeHandler(_installed.pop())
    server = logging.getLogger("aiohttp.server")
    for old in [f for f in server.filters if isinstance(f, ClientMistakes)]:
        server.removeFilter(old)
    server.addFilter(ClientMistakes())
    handler = build_handler(settings, stream)
    root.addHandler(handler)
    _installed.append(handler)
    root.setLevel(settings.logs.level)
    return handler
