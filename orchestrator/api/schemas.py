"""The client's request bodies as Structs, and the checks of every body the API takes: each
decoded into its Struct (``decode.py``; the worker's are in ``worker_sdk.protocol``, the
human steps' in ``human_bodies.py``, a ticket's transition in ``tickets.py``), so the
OpenAPI document's schemas and the server's checks come from one type. A 400 always names
the field."""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any

import orjson
from msgspec import UNSET, Meta, Struct

from orchestrator.api.decode import Problem, decode, invalid
from orchestrator.config import Settings
from orchestrator.engine.new_job import NewJob
from orchestrator.names import check_name
from worker_sdk.protocol import (
    MAX_DECLINE_REASON,
    MAX_INTEGER,
    MAX_PROGRESS_DATA_BYTES,
    MAX_PROGRESS_MESSAGE,
    Heartbeat,
    Registration,
    TaskDecline,
    TaskProgress,
    TaskResult,
)

MAX_TIMEOUT_S = 10 * 365 * 24 * 3600
"""Longest job timeout: the deadline must stay a time the timers can hold."""


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


def _webhook_url(url: str | None, settings: Settings) -> str | None:
    problem = webhook_problem(url, settings)
    if problem is not None:
        raise invalid("webhook_url", problem)
    return url


def webhook_problem(url: object, settings: Settings) -> str | None:
    """What is wrong with ``url`` as a job's webhook on this server, or None."""
    if url is None:
        return None
    if not settings.webhooks.secret:
        return "webhooks are off on this server (no webhook_secret set)"
    text = url if isinstance(url, str) and len(url) <= MAX_URL_LENGTH else ""
    matched = WEBHOOK_URL.match(text)
    if matched is None:
        return (
            "must be an http(s) URL with a host name or IPv4 address, no spaces or control "
            f"characters, {MAX_URL_LENGTH} characters at most"
        )
    allowed = settings.webhooks.allowed_hosts
    if allowed and not allowed_webhook_url(allowed).match(text):
        return f"host {matched.group(1)!r} is not among the allowed webhook hosts"
    return None


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


class NewJobBody(Struct, forbid_unknown_fields=True):
    """`POST /api/v1/jobs`. Every field is optional; an empty body (or `null`) starts the job
    with no data."""

    initial_data: (
        Annotated[
            dict[str, Any], Meta(description="The job's input, handed to the blueprint's handlers.")
        ]
        | None
    ) = None
    # Checked against the settings after decoding: ``openapi.schemas.new_job`` documents it.
    webhook_url: str | None = None
    dispatch_timeout: (
        Annotated[
            float,
            Meta(
                gt=0,
                le=MAX_TIMEOUT_S,
                description="Longest wait, in seconds, of a task in the queue before a worker "
                "takes it; past it the job fails with `DISPATCH_TIMEOUT`.",
            ),
        ]
        | None
    ) = None
    result_timeout: (
        Annotated[
            float,
            Meta(
                gt=0,
                le=MAX_TIMEOUT_S,
                description="Deadline, in seconds from creation, for the whole job; past it "
                "the job fails with `RESULT_TIMEOUT`.",
            ),
        ]
        | None
    ) = None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _count(low: int) -> Problem:
    def problem(value: object) -> str:
        if not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
            return f"must be an integer >= {low}"
        return f"must be an integer between {low} and {MAX_INTEGER}"

    return problem


def _seconds(value: object) -> str:
    if not _is_number(value):
        return "must be a positive number of seconds"
    return f"must be a positive number of seconds, at most {MAX_TIMEOUT_S}"


def _worker_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    return _name_problem("worker_id", value) or "must be a non-empty string"


def _skills(value: object) -> str:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of task types"
    for skill in value:
        if not isinstance(skill, str):
            return "must hold strings"
        if (problem := _name_problem("task type", skill)) is not None:
            return problem
    return "must be a non-empty list of task types"


def _name_problem(kind: str, value: str) -> str | None:
    try:
        check_name(kind, value)
    except ValueError as exc:
        return str(exc)
    return None


def _reason(value: object) -> str:
    if not isinstance(value, str):
        return "must be a string or null"
    return f"must be at most {MAX_DECLINE_REASON} characters"


_TEXT = "must be a non-empty string"
_IDS = {"job_id": _TEXT, "task_id": _TEXT, "worker_id": _TEXT, "attempt": _count(1)}
_RESULT: dict[str, Problem] = {
    **_IDS,
    "status": _TEXT,
    "data": "must be an object or null",
    "error": "must be an object or null",
    "error.code": "must be a string",
    "error.retryable": "must be a boolean",
    "error.retry_after_s": "must be a number of seconds >= 0, or null",
}
_DECLINE: dict[str, Problem] = {**_IDS, "reason": _reason}
_PROGRESS_DATA = f"must be an object of at most {MAX_PROGRESS_DATA_BYTES} bytes"
_PROGRESS: dict[str, Problem] = {
    **_IDS,
    "fraction": "must be a number from 0 to 1, or null",
    "message": f"must be a string of at most {MAX_PROGRESS_MESSAGE} characters",
    "data": _PROGRESS_DATA,
}
_WORKER: dict[str, Problem] = {
    "worker_id": _worker_id,
    "supported_skills": _skills,
    "capacity": _count(1),
    "load": _count(0),
    "running_tasks": "must be a list of task ids",
    "tags": "must be a list of strings",
    "labels": "must be an object of strings",
}
_NEW_JOB: dict[str, Problem] = {
    "initial_data": "must be an object",
    "dispatch_timeout": _seconds,
    "result_timeout": _seconds,
}


def new_job(body: object, settings: Settings) -> NewJob:
    def webhook(value: object) -> str:
        return webhook_problem(value, settings) or "must be a string or null"

    def also(field: str, value: object) -> str | None:
        return webhook_problem(value, settings) if field == "webhook_url" else None

    problems = {**_NEW_JOB, "webhook_url": webhook}
    job = decode({} if body is None else body, NewJobBody, problems, also)
    return NewJob(
        initial_data=job.initial_data or {},
        webhook_url=_webhook_url(job.webhook_url, settings),
        dispatch_timeout_s=job.dispatch_timeout,
        result_timeout_s=job.result_timeout,
    )


def registration(body: object) -> dict[str, Any]:
    worker = decode(body, Registration, _WORKER)
    assert isinstance(body, dict)  # decode took it as an object
    extra = {k: v for k, v in body.items() if k not in {"worker_id", "supported_skills"}}
    return {
        **extra,
        "worker_id": worker.worker_id,
        "supported_skills": sorted(set(worker.supported_skills)),
        "capacity": int(worker.capacity),
        "tags": worker.tags,
        "labels": worker.labels,
    }


_SERVER_OWNED = ("worker_id", "registered_at", "running_at")
"""Fields of a worker's record that a heartbeat cannot rewrite."""


def heartbeat(body: object) -> dict[str, Any] | None:
    if body is None:
        return None
    beat = decode(body, Heartbeat, _WORKER)
    assert isinstance(body, dict)
    update = {k: v for k, v in body.items() if k not in _SERVER_OWNED}
    for field in ("load", "capacity"):
        if (count := getattr(beat, field)) is not UNSET:
            update[field] = int(count)
    if beat.supported_skills is not UNSET:
        update["supported_skills"] = sorted(set(beat.supported_skills))
    return update


def task_result(body: object) -> dict[str, Any]:
    result = decode(body, TaskResult, _RESULT)
    assert isinstance(body, dict)
    return body if result.attempt is None else {**body, "attempt": int(result.attempt)}


def task_decline(body: object) -> dict[str, Any]:
    # Unlike a result, a decline must name its attempt: a worker declines the delivery it was
    # given, never whichever attempt the job happens to wait for when the decline arrives.
    decline = decode(body, TaskDecline, _DECLINE)
    assert isinstance(body, dict)
    return {**body, "attempt": int(decline.attempt)}


def task_progress(body: object) -> dict[str, Any]:
    # Like a decline, a report names its attempt: a late one of an attempt that is over must
    # not show as the progress of the next.
    report = decode(body, TaskProgress, _PROGRESS)
    assert isinstance(body, dict)
    if report.data is not None and len(orjson.dumps(report.data)) > MAX_PROGRESS_DATA_BYTES:
        raise invalid("data", _PROGRESS_DATA)
    return {**body, "attempt": int(report.attempt)}
