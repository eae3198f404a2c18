"""Request bodies checked field by field; a 400 always names the field."""

from __future__ import annotations

import functools
import re
from typing import Any

from orchestrator.config import Settings
from orchestrator.engine.new_job import NewJob
from orchestrator.errors import BadRequest
from orchestrator.storage.keys import check_name


def _invalid(field: str, problem: str) -> BadRequest:
    return BadRequest(f"{field}: {problem}", code="VALIDATION_ERROR", details={"field": field})


def _object(body: object, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"{what} must be a JSON object", code="VALIDATION_ERROR")
    return body


MAX_TIMEOUT_S = 10 * 365 * 24 * 3600
"""Longest job timeout: the deadline must stay a time the timers can hold."""


def _positive_number(body: dict[str, Any], field: str) -> float | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(field, "must be a positive number of seconds")
    if not 0 < value <= MAX_TIMEOUT_S:
        raise _invalid(field, f"must be a positive number of seconds, at most {MAX_TIMEOUT_S}")
    return float(value)


def _string(body: dict[str, Any], field: str, *, name: bool = False) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise _invalid(field, "must be a non-empty string")
    if name:
        try:
            check_name(field, value)
        except ValueError as exc:
            raise _invalid(field, str(exc)) from exc
    return value


MAX_INTEGER = 2**53 - 1
"""Largest integer a count may be: the last one every JSON reader holds exactly."""


def integer(value: object, field: str, low: int, high: int = MAX_INTEGER) -> int:
    """``value`` as an int in ``[low, high]``. JSON Schema counts ``611.0`` as an integer, and
    the OpenAPI document promises JSON Schema, so an integral float is taken as its int."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(field, f"must be an integer >= {low}")
    if not low <= value <= high:
        raise _invalid(field, f"must be an integer between {low} and {high}")
    return value


def anchored(body: str) -> str:
    """A regex that matches the whole of a string and reads the same in Python and in
    ECMA-262 (JSON Schema): Python's ``$`` also matches before a trailing newline, so a
    lookahead keeps that newline out (and keeps fuzzers from generating it as valid)."""
    return f"^(?:{body})$(?!\\n)"


IDEMPOTENCY_KEY = re.compile(anchored(r"[!-~](?:[ -~]{0,253}[!-~])?"))
"""1-255 visible ASCII characters, inner spaces allowed (HTTP trims outer ones)."""

MAX_URL_LENGTH = 2048
_URL_CHAR = r"[^\x00-\x20\x7f-\x9f]"
"""Neither a space nor a control character."""
_HOST = r"[^\x00-\x20\x7f-\x9f/?#@:\[\]\\]+"
_PORT = r"[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]"


def webhook_url_pattern(host: str = _HOST) -> str:
    """The webhook URLs the server takes, as one regex that Python and the OpenAPI document
    (ECMA-262) read alike: http(s), optional user info, a host (a name or an IPv4 address;
    no IPv6 literal), an optional port 1-65535, then path, query and fragment."""
    userinfo = r"[^\x00-\x20\x7f-\x9f/?#@\[\]\\]*@"
    return anchored(
        rf"[Hh][Tt][Tt][Pp][Ss]?://(?:{userinfo})?({host})(?::(?:{_PORT}))?"
        rf"(?:[/?#]{_URL_CHAR}*)?"
    )


WEBHOOK_URL = re.compile(webhook_url_pattern())
CREATE_FIELDS = {"initial_data", "webhook_url", "dispatch_timeout", "result_timeout"}


def new_job(body: object, settings: Settings) -> NewJob:
    data = _object(body if body is not None else {}, "the body")
    unknown = sorted(set(data) - CREATE_FIELDS)
    if unknown:
        raise _invalid(unknown[0], f"unknown field (allowed: {', '.join(sorted(CREATE_FIELDS))})")
    initial = data.get("initial_data", {})
    if initial is None:
        initial = {}
    if not isinstance(initial, dict):
        raise _invalid("initial_data", "must be an object")
    return NewJob(
        initial_data=initial,
        webhook_url=_webhook_url(data.get("webhook_url"), settings),
        dispatch_timeout_s=_positive_number(data, "dispatch_timeout"),
        result_timeout_s=_positive_number(data, "result_timeout"),
    )


def _webhook_url(url: object, settings: Settings) -> str | None:
    if url is None:
        return None
    if not settings.webhooks.secret:
        raise _invalid("webhook_url", "webhooks are off on this server (no webhook_secret set)")
    text = url if isinstance(url, str) and len(url) <= MAX_URL_LENGTH else ""
    matched = WEBHOOK_URL.match(text)
    if matched is None:
        problem = (
            "must be an http(s) URL with a host name or IPv4 address, no spaces or control "
            f"characters, {MAX_URL_LENGTH} characters at most"
        )
        raise _invalid("webhook_url", problem)
    allowed = settings.webhooks.allowed_hosts
    if allowed and not allowed_webhook_url(allowed).match(text):
        host = matched.group(1)
        raise _invalid("webhook_url", f"host {host!r} is not among the allowed webhook hosts")
    return text


@functools.cache
def allowed_webhook_url(allowed: tuple[str, ...]) -> re.Pattern[str]:
    """The webhook URLs whose host is listed (ASCII letters in any case, trailing dots
    ignored) or is a subdomain of a listed ``*.domain``. The OpenAPI document publishes this
    very pattern, so the server and the document cannot disagree on a host."""
    hosts = []
    for entry in allowed:
        entry = entry.rstrip(".")
        wildcard = entry.startswith("*.")
        literal = "".join(_any_case(c) for c in (entry[1:] if wildcard else entry))
        hosts.append(f"{_HOST[:-1]}*{literal}" if wildcard else literal)
    return re.compile(webhook_url_pattern(f"(?:{'|'.join(hosts)})\\.*"))


def _any_case(char: str) -> str:
    if char.isascii() and char.isalpha():
        return f"[{char.lower()}{char.upper()}]"
    return f"\\{char}" if char in "^$\\.*+?()[]{}|/" else char


def registration(body: object) -> dict[str, Any]:
    data = _object(body, "the body")
    worker_id = _string(data, "worker_id", name=True)
    skills = _skills(data.get("supported_skills"))
    capacity = integer(data.get("capacity", 1), "capacity", 1)
    tags = _tags(data.get("tags", []))
    labels = _labels(data.get("labels", {}))
    extra = {k: v for k, v in data.items() if k not in {"worker_id", "supported_skills"}}
    return {
        **extra,
        "worker_id": worker_id,
        "supported_skills": skills,
        "capacity": capacity,
        "tags": tags,
        "labels": labels,
    }


def _tags(tags: object) -> list[str]:
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _invalid("tags", "must be a list of strings")
    return tags


def _labels(labels: object) -> dict[str, str]:
    """``key: value`` pairs a task's ``requires`` may ask for (``WORKER_LABELS``)."""
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise _invalid("labels", "must be an object of strings")
    return labels


_SERVER_OWNED = ("worker_id", "registered_at")
"""Fields of a worker's record that a heartbeat cannot rewrite."""


def _skills(skills: object) -> list[str]:
    if not isinstance(skills, list) or not skills:
        raise _invalid("supported_skills", "must be a non-empty list of task types")
    for skill in skills:
        if not isinstance(skill, str):
            raise _invalid("supported_skills", "must hold strings")
        try:
            check_name("task type", skill)
        except ValueError as exc:
            raise _invalid("supported_skills", str(exc)) from exc
    return sorted(set(skills))


def heartbeat(body: object) -> dict[str, Any] | None:
    if body is None:
        return None
    data = _object(body, "the body")
    counts = {
        field: integer(data[field], field, low)
        for field, low in (("load", 0), ("capacity", 1))
        if field in data
    }
    running = data.get("running_tasks", [])
    if not isinstance(running, list) or not all(isinstance(t, str) for t in running):
        raise _invalid("running_tasks", "must be a list of task ids")
    if "supported_skills" in data:
        data = {**data, "supported_skills": _skills(data["supported_skills"])}
    if "tags" in data:
        _tags(data["tags"])
    if "labels" in data:
        _labels(data["labels"])
    return {k: v for k, v in {**data, **counts}.items() if k not in _SERVER_OWNED}


def task_result(body: object) -> dict[str, Any]:
    data = _object(body, "the body")
    for field in ("job_id", "task_id", "worker_id", "status"):
        _string(data, field)
    if data.get("data") is not None and not isinstance(data["data"], dict):
        raise _invalid("data", "must be an object or null")
    err = data.get("error")
    if err is not None:
        if not isinstance(err, dict):
            raise _invalid("error", "must be an object or null")
        if not isinstance(err.get("code", ""), str):
            raise _invalid("error.code", "must be a string")
        if not isinstance(err.get("retryable", False), bool):
            raise _invalid("error.retryable", "must be a boolean")
        after = err.get("retry_after_s")
        # bool is an int: refuse it, as a delay of True seconds is a client bug.
        if after is not None and (
            isinstance(after, bool) or not isinstance(after, int | float) or not 0 <= after < 1e9
        ):
            raise _invalid("error.retry_after_s", "must be a number of seconds >= 0, or null")
    if data.get("attempt") is not None:
        data = {**data, "attempt": integer(data["attempt"], "attempt", 1)}
    return data


MAX_DECLINE_REASON = 200
"""Characters of a decline's ``reason`` kept: it goes into the job's history."""


def task_decline(body: object) -> dict[str, Any]:
    data = _object(body, "the body")
    for field in ("job_id", "task_id", "worker_id"):
        _string(data, field)
    # Unlike a result, a decline must name its attempt: a worker declines the delivery it was
    # given, never whichever attempt the job happens to wait for when the decline arrives.
    data = {**data, "attempt": integer(data.get("attempt"), "attempt", 1)}
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise _invalid("reason", "must be a string or null")
    if reason is not None and len(reason) > MAX_DECLINE_REASON:
        raise _invalid("reason", f"must be at most {MAX_DECLINE_REASON} characters")
    return data


def int_query(value: str | None, field: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise _invalid(field, "must be an integer") from None
    if not low <= number <= high:
        raise _invalid(field, f"must be between {low} and {high}")
    return number


def seconds_query(value: str | None, field: str, longest: float) -> float:
    """A duration in seconds from the query string, capped at ``longest``."""
    if value is None or value == "":
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        raise _invalid(field, "must be a number of seconds") from None
    if not seconds >= 0:  # also refuses NaN
        raise _invalid(field, "must be >= 0")
    return min(seconds, longest)
