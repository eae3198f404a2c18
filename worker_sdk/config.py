"""Worker settings: one frozen object, built from arguments or from the environment."""

from __future__ import annotations

import math
import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from yarl import URL

__all__ = ["ENV_VARS", "WorkerSettings", "redact_url"]

ENV_VARS: Mapping[str, str] = {
    "url": "ORCH_URL",
    "token": "ORCH_WORKER_TOKEN",
    "worker_id": "WORKER_ID",
    "capacity": "WORKER_CAPACITY",
    "poll_timeout_s": "WORKER_POLL_TIMEOUT_S",
    "tags": "WORKER_TAGS",
    "labels": "WORKER_LABELS",
    "shutdown_grace_s": "WORKER_SHUTDOWN_GRACE_S",
}
"""Environment variable read by :meth:`WorkerSettings.from_env` for each setting."""


_USERINFO = re.compile(r"(?<=://)[^/?#\s]*@")


def redact_url(url: str) -> str:
    """``url`` for logs and messages: ``user:password@`` (or a token given as the user) becomes
    ``***@``. A proxy in front of the orchestrator may take Basic credentials in ``--url``,
    and log lines end up in log stores that many people read."""
    return _USERINFO.sub("***@", url)


def _default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class WorkerSettings:
    """How a worker reaches the orchestrator and how much work it takes.

    Raises:
        ValueError: On construction, listing every invalid field.
    """

    url: str = "http://127.0.0.1:8080"
    """Base URL of the orchestrator (``ORCH_URL``)."""
    token: str = field(default="", repr=False)
    """Worker token sent as ``X-Worker-Token`` (``ORCH_WORKER_TOKEN``). Never logged."""
    worker_id: str = field(default_factory=_default_worker_id)
    """Unique id of this worker process (``WORKER_ID``); defaults to ``<hostname>-<pid>``."""
    capacity: int = 4
    """How many tasks run at once (``WORKER_CAPACITY``)."""
    poll_timeout_s: float = 30.0
    """Longest wait of one long-poll for a task (``WORKER_POLL_TIMEOUT_S``)."""
    tags: tuple[str, ...] = ()
    """Tags matched against the ``tags`` of a task's ``requires``: the worker gets such a task
    only if it has every tag listed (``WORKER_TAGS``, comma separated)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels matched against the other keys of a task's ``requires``: each must be equal
    (``WORKER_LABELS``, ``key=value`` pairs, comma separated)."""
    shutdown_grace_s: float = 30.0
    """How long a stopping worker waits for running tasks before cancelling them
    (``WORKER_SHUTDOWN_GRACE_S``)."""

    def __post_init__(self) -> None:
        # Accept any iterable of tags; the frozen field stays a hashable tuple.
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "labels", dict(self.labels))  # a copy the caller cannot change
        problems = [
            f"{f.name}: {problem}"
            for f in fields(self)
            if (problem := _check(f.name, getattr(self, f.name)))
        ]
        if problems:
            raise ValueError("invalid worker settings: " + "; ".join(problems))

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], *, defaults: WorkerSettings | None = None
    ) -> WorkerSettings:
        """Build settings from environment variables (see :data:`ENV_VARS`).

        Args:
            environ: Usually ``os.environ``; tests pass a dict.
            defaults: Values for the variables that are not set (the plain defaults if omitted).

        Raises:
            ValueError: Naming every bad variable at once.
        """
        base = defaults if defaults is not None else cls()
        values: dict[str, Any] = {}
        problems: list[str] = []
        for name, var in ENV_VARS.items():
            raw = environ.get(var)
            if raw is None:
                continue
            try:
                value = _PARSERS.get(name, str)(raw.strip())
            except ValueError as exc:
                problems.append(f"{var}={raw!r}: {exc}")
                continue
            problem = _check(name, value)
            if problem:
                problems.append(f"{var}={_shown(name, raw)}: {problem}")
            else:
                values[name] = value
        if problems:
            raise ValueError("invalid worker environment: " + "; ".join(problems))
        return replace(base, **values)


def _parse_int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("not an integer") from None


def _parse_float(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError("not a number") from None


def _parse_tags(raw: str) -> tuple[str, ...]:
    return tuple(tag.strip() for tag in raw.split(",") if tag.strip())


def _parse_labels(raw: str) -> dict[str, str]:
    labels = {}
    for pair in (p.strip() for p in raw.split(",") if p.strip()):
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise ValueError(f"{pair!r} is not key=value")
        labels[key.strip()] = value.strip()
    return labels


_PARSERS: Mapping[str, Callable[[str], Any]] = {
    "capacity": _parse_int,
    "poll_timeout_s": _parse_float,
    "shutdown_grace_s": _parse_float,
    "tags": _parse_tags,
    "labels": _parse_labels,
}


def _check_url(value: Any) -> str | None:
    hint = "give the orchestrator's base URL, e.g. http://127.0.0.1:8080 (--url / ORCH_URL)"
    try:
        url = URL(value)
    except (TypeError, ValueError):
        return f"{_shown('url', str(value))} is not a URL: {hint}"
    if url.scheme not in ("http", "https") or not url.host:
        return f"{_shown('url', value)} is not an http:// or https:// URL with a host: {hint}"
    return None


def _check_worker_id(value: Any) -> str | None:
    # The id is a path segment of every worker URL.
    if not isinstance(value, str) or not value or "/" in value or value != value.strip():
        return "must be non-empty, without '/' or surrounding spaces"
    return None


def _check_capacity(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return "must be an integer >= 1"
    return None


def _check_duration(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number"
    if not math.isfinite(value) or value < 0:
        return "must be a finite number >= 0"
    return None


def _check_poll_timeout(value: Any) -> str | None:
    return _check_duration(value) or (None if value > 0 else "must be > 0")


def _check_tags(value: Any) -> str | None:
    if not all(isinstance(tag, str) and tag for tag in value):
        return "must be non-empty strings"
    return None


def _check_labels(value: Any) -> str | None:
    if not all(isinstance(k, str) and k and isinstance(v, str) for k, v in value.items()):
        return "must map non-empty strings to strings"
    return None


_CHECKS: Mapping[str, Callable[[Any], str | None]] = {
    "url": _check_url,
    "worker_id": _check_worker_id,
    "capacity": _check_capacity,
    "poll_timeout_s": _check_poll_timeout,
    "shutdown_grace_s": _check_duration,
    "tags": _check_tags,
    "labels": _check_labels,
}


def _check(name: str, value: Any) -> str | None:
    check = _CHECKS.get(name)
    return check(value) if check else None


def _shown(name: str, raw: str) -> str:
    if name == "url":
        return repr(redact_url(raw))
    return "<hidden>" if name == "token" else repr(raw)
