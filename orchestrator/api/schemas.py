"""Request bodies checked field by field; a 400 always names the field."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from orchestrator.config import Settings
from orchestrator.errors import BadRequest
from orchestrator.runner import NewJob
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


MAX_URL_LENGTH = 2048
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
    host = _http_host(url)
    if host is None:
        problem = f"must be an http(s) URL with a host, {MAX_URL_LENGTH} characters at most"
        raise _invalid("webhook_url", problem)
    if not settings.webhook_secret:
        raise _invalid("webhook_url", "webhooks are off on this server (no webhook_secret set)")
    allowed = settings.webhook_allowed_hosts
    if allowed and not host_allowed(host, allowed):
        raise _invalid("webhook_url", f"host {host!r} is not among the allowed webhook hosts")
    return str(url)


def _http_host(url: object) -> str | None:
    """The host of an http(s) URL without spaces or control characters, else None."""
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH or any(c <= " " for c in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises on a bad port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None
    return parts.hostname or None


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """``host`` is listed, or is a subdomain of a listed ``*.domain``."""
    host = host.lower().rstrip(".")
    for entry in (a.lower() for a in allowed):
        if host == entry or (entry.startswith("*.") and host.endswith(entry[1:])):
            return True
    return False


def registration(body: object) -> dict[str, Any]:
    data = _object(body, "the body")
    worker_id = _string(data, "worker_id", name=True)
    skills = _skills(data.get("supported_skills"))
    capacity = _capacity(data.get("capacity", 1))
    tags = _tags(data.get("tags", []))
    extra = {k: v for k, v in data.items() if k not in {"worker_id", "supported_skills"}}
    return {
        **extra,
        "worker_id": worker_id,
        "supported_skills": skills,
        "capacity": capacity,
        "tags": tags,
    }


def _capacity(capacity: object) -> int:
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise _invalid("capacity", "must be an integer >= 1")
    return capacity


def _tags(tags: object) -> list[str]:
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _invalid("tags", "must be a list of strings")
    return tags


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
    load = data.get("load", 0)
    if isinstance(load, bool) or not isinstance(load, int) or load < 0:
        raise _invalid("load", "must be an integer >= 0")
    running = data.get("running_tasks", [])
    if not isinstance(running, list) or not all(isinstance(t, str) for t in running):
        raise _invalid("running_tasks", "must be a list of task ids")
    if "supported_skills" in data:
        data = {**data, "supported_skills": _skills(data["supported_skills"])}
    if "capacity" in data:
        _capacity(data["capacity"])
    if "tags" in data:
        _tags(data["tags"])
    return {k: v for k, v in data.items() if k not in _SERVER_OWNED}


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
    attempt = data.get("attempt")
    if attempt is not None and (isinstance(attempt, bool) or not isinstance(attempt, int)):
        raise _invalid("attempt", "must be an integer")
    return data


MAX_DECLINE_REASON = 200
"""Characters of a decline's ``reason`` kept: it goes into the job's history."""


def task_decline(body: object) -> dict[str, Any]:
    data = _object(body, "the body")
    for field in ("job_id", "task_id", "worker_id"):
        _string(data, field)
    # Unlike a result, a decline must name its attempt: a worker declines the delivery it was
    # given, never whichever attempt the job happens to wait for when the decline arrives.
    attempt = data.get("attempt")
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise _invalid("attempt", "must be an integer >= 1")
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
