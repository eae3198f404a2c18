"""Routes a blueprint declares under ``/api/``, in the shapes a client system already speaks.

Three kinds, each served by ``orchestrator/api/routes_declared.py``:

- ``StartRoute``: ``POST /api/v1/validate-audit`` starts a job from a JSON body (the body is the
  job's ``initial_data``) or, when ``form`` is declared, from ``multipart/form-data`` (typed
  fields; file parts become job files). With ``wait_s`` it answers the job's outcome: the
  result (200), a failure with the status ``errors`` maps its code to (unmapped: 500
  ``INTERNAL_ERROR``), or 202 with the job's id when the wait runs out.
- ``ActionRoute``: ``POST /api/v1/alerts/{id}/acknowledge`` takes a decision on the job's
  waiting human step, answering in the declared shapes for success and for each error kind.
- ``ReadRoute``: ``GET /api/v1/alerts/{id}`` renders the job in a declared shape.

A body is a *template* (any JSON value whose strings may hold ``{{ path }}`` placeholders, as
in YAML blueprints) or, from Python, a callable taking the same data. The data a body sees is
``RouteData`` below. Routes never change how a job runs, so they are not in the version.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestrator.blueprint.route_clashes import overlap, same_method
from orchestrator.engine.model import Job

Body = Any
"""A template (JSON value with placeholders) or ``Callable[[Mapping[str, Any]], Any]``."""

ROOTS = (
    "id",
    "job_id",
    "job",
    "status",
    "status_url",
    "result",
    "error",
    "initial_data",
    "context",
    "results",
    "decision",
)
"""What a route's body may read (``RouteData``):

- ``id``: the path parameter (action and read routes) or the job's id;
- ``job_id``, ``job`` (the job as ``GET /api/v1/jobs/{id}`` shows it), ``status_url``;
- ``status``: the job's status in the route's vocabulary (``statuses``);
- ``result``, ``initial_data``, ``context``, ``results``: the job's data;
- ``error``: ``{"code", "message", "details"}`` of the failure being answered;
- ``decision``: the last decision on the job (``decision``, ``actor``, ``at``, ``state``).
"""

FIELD_TYPES = ("string", "boolean", "integer", "number", "json")
"""How a form field's text becomes a value of ``initial_data``."""

JOB_ID_SOURCES = re.compile(r"(body\.[A-Za-z_][\w-]*|header\.[A-Za-z0-9-]+)")
_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")
_PARAM = re.compile(r"\{([A-Za-z_]\w*)\}")
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_PATH = re.compile(r"[A-Za-z_][\w-]*(\.[\w-]+)*")


@dataclass(frozen=True)
class Reply:
    """A status and a body (template or callable)."""

    status: int
    body: Body


@dataclass(frozen=True)
class StatusRule:
    """The job is ``value`` when every given condition holds (first matching rule wins)."""

    value: str
    state: str | None = None
    job_status: str | None = None
    decision: str | None = None
    """The last decision taken on the job."""


Statuses = Sequence[StatusRule] | Callable[[Job], str] | None
"""A job's status in the routes' vocabulary; ``None``: the job's own status."""

FAILURE_BODY: Body = {
    "success": False,
    "code": "{{ error.code }}",
    "message": "{{ error.message }}",
}
ACCEPTED_BODY: Body = {
    "job_id": "{{ job_id }}",
    "status": "{{ job.status }}",
    "status_url": "{{ status_url }}",
}


@dataclass(frozen=True)
class StartRoute:
    path: str
    """``/api/<version>/<segments>``, no parameters."""
    form: Mapping[str, str] | None = None
    """Accept ``multipart/form-data`` too: field name → type (``FIELD_TYPES``); undeclared
    fields are strings. ``None``: JSON only."""
    files: str | None = None
    """Accept file parts (multipart): stored as the job's files (S3; 501 without it) and listed
    in ``initial_data[files]`` as ``{field, filename, size, content_type, sha256, s3_uri}``."""
    wait_s: float = 0.0
    """Wait up to this long for the job to end and answer its outcome; 0: answer 202 at once."""
    errors: Mapping[str, int] = field(default_factory=dict)
    """Error code → HTTP status; a job failure with another code is 500 ``INTERNAL_ERROR``."""
    result: Body = "{{ result }}"
    """The 200 body of a finished job."""
    failure: Body = field(default_factory=lambda: dict(FAILURE_BODY))
    """The body of a failed job and of a refused request (``error`` holds what went wrong)."""
    accepted: Body = field(default_factory=lambda: dict(ACCEPTED_BODY))
    """The 202 body once the wait runs out."""
    job_id_from: tuple[str, ...] = ()
    """Where the job's id comes from, first given wins: ``body.<key>``, ``header.<name>``."""
    actor_header: str | None = None
    """A request header naming the person who starts the job (seed 000's ``x-username``):
    ``initial_data["actor"]``, when the body has no ``actor``."""
    statuses: Statuses = None
    summary: str = ""
    body_schema: Mapping[str, Any] | None = None
    """The request body's JSON schema, for the OpenAPI document (the start state validates)."""
    result_schema: Mapping[str, Any] | None = None
    """The 200 body's JSON schema, for the OpenAPI document."""
    method: str = "POST"


@dataclass(frozen=True)
class ActionRoute:
    path: str
    """``/api/<version>/.../{param}/...``: exactly one parameter, the job's id."""
    decision: str | None = None
    """The decision taken; ``None``: the body's ``decision``."""
    ok: Reply = Reply(
        200,
        {
            "status": "decision_recorded",
            "job_id": "{{ job_id }}",
            "decision": "{{ decision.decision }}",
        },
    )
    not_found: Reply | None = None
    """No such job (or another client's, or another blueprint's); ``None``: the error envelope."""
    not_waiting: Reply | None = None
    """The job waits for no decision now (decided already, ended)."""
    invalid: Reply | None = None
    """A decision the step does not take, a field that breaks its schema, a role mismatch."""
    error: Body | None = None
    """Any other refusal (401, 413, 429...), with its own status; ``None``: the envelope."""
    actor_header: str | None = None
    """A request header naming the person who acts (``x-username``), when the body has none."""
    statuses: Statuses = None
    summary: str = ""
    body_schema: Mapping[str, Any] | None = None
    ok_schema: Mapping[str, Any] | None = None
    method: str = "POST"


@dataclass(frozen=True)
class ReadRoute:
    path: str
    """``/api/<version>/.../{param}``: exactly one parameter, the job's id."""
    ok: Reply = Reply(200, "{{ job }}")
    not_found: Reply | None = None
    error: Body | None = None
    statuses: Statuses = None
    summary: str = ""
    ok_schema: Mapping[str, Any] | None = None
    method: str = "GET"


Route = StartRoute | ActionRoute | ReadRoute


def kind(route: Route) -> str:
    return {StartRoute: "start", ActionRoute: "action", ReadRoute: "read"}[type(route)]


def param_of(route: Route) -> str | None:
    """The path parameter that names the job (action and read routes)."""
    found = _PARAM.findall(route.path)
    return found[0] if found else None


def status_name(statuses: Statuses, job: Job, last_decision: str | None) -> str:
    if statuses is None:
        return job.status.value
    if callable(statuses):
        return statuses(job)
    for rule in statuses:
        if (
            (rule.state is None or rule.state == job.state)
            and (rule.job_status is None or rule.job_status == job.status.value)
            and (rule.decision is None or rule.decision == last_decision)
        ):
            return rule.value
    return job.status.value


def problems(route: Route) -> list[str]:
    """What is wrong with one declaration (empty when it can be served)."""
    found = [f"route {route.path!r}: {p}" for p in _path_problems(route)]
    where = f"route {route.method} {route.path}"
    bodies: list[tuple[str, Body]] = []
    if isinstance(route, StartRoute):
        found += _start_problems(route, where)
        bodies += [("result", route.result), ("failure", route.failure)]
        bodies.append(("accepted", route.accepted))
    else:
        replies: dict[str, Reply | None] = {"ok": route.ok, "not_found": route.not_found}
        if isinstance(route, ActionRoute):
            replies |= {"not_waiting": route.not_waiting, "invalid": route.invalid}
        for name, reply in replies.items():
            if reply is None:
                continue
            if not 100 <= reply.status <= 599:
                found.append(f"{where}: {name}.status {reply.status} is not an HTTP status")
            bodies.append((name, reply.body))
        if route.error is not None:
            bodies.append(("error", route.error))
    for name, body in bodies:
        found += [f"{where}: {name}: {p}" for p in template_problems(body)]
    if route.statuses is not None and not callable(route.statuses):
        for rule in route.statuses:
            if not rule.value:
                found.append(f"{where}: a status rule needs a value")
    return found


def _path_problems(route: Route) -> list[str]:
    method = route.method
    expected = {StartRoute: ("POST", "PUT"), ActionRoute: ("POST", "PUT", "PATCH")}
    allowed = expected.get(type(route), ("GET",))
    found = [] if method in allowed else [f"method {method} (use {' or '.join(allowed)})"]
    parts = route.path.split("/")
    if len(parts) < 4 or parts[0] != "" or parts[1] != "api" or not parts[2]:
        return [*found, "a route is /api/<version>/<path> (e.g. /api/v1/validate-audit)"]
    params = [p for p in parts[3:] if _PARAM.fullmatch(p)]
    bad = [p for p in parts[2:] if not _SEGMENT.fullmatch(p) and not _PARAM.fullmatch(p)]
    if bad:
        found.append(f"segment {bad[0]!r}: letters, digits and . _ ~ - only, or one {{param}}")
    wanted = 0 if isinstance(route, StartRoute) else 1
    if len(params) != wanted:
        found.append(
            "a start route takes no path parameter"
            if wanted == 0
            else "it needs exactly one {param}: the job's id"
        )
    return found


def _start_problems(route: StartRoute, where: str) -> list[str]:
    found = []
    for name, kind_ in (route.form or {}).items():
        if kind_ not in FIELD_TYPES:
            found.append(
                f"{where}: form field {name!r}: type {kind_!r} (use {', '.join(FIELD_TYPES)})"
            )
    if route.files is not None and route.form is None:
        found.append(f"{where}: files need a form (file parts come in multipart/form-data)")
    if not 0 <= route.wait_s <= 60:
        found.append(f"{where}: wait_s must be 0 to 60 seconds")
    for code, status in route.errors.items():
        if not 100 <= status <= 599:
            found.append(f"{where}: errors.{code}: {status} is not an HTTP status")
    for source in route.job_id_from:
        if not JOB_ID_SOURCES.fullmatch(source):
            found.append(f"{where}: job_id_from {source!r} (use body.<key> or header.<Name>)")
    return found


def template_problems(body: Body) -> list[str]:
    """Malformed placeholders, or paths outside ``ROOTS``; a callable is taken as it is."""
    if callable(body):
        return []
    if isinstance(body, str):
        found = []
        for match in _PLACEHOLDER.finditer(body):
            path = match.group(1).strip()
            if not _PATH.fullmatch(path):
                found.append(f"placeholder {{{{ {path} }}}} must be a dotted path")
            elif path.split(".")[0] not in ROOTS:
                found.append(f"placeholder path {path!r} must start with one of {', '.join(ROOTS)}")
        if "{{" in _PLACEHOLDER.sub("", body) or "}}" in _PLACEHOLDER.sub("", body):
            found.append(f"unclosed placeholder in {body!r}")
        return found
    if isinstance(body, Mapping):
        return [p for item in body.values() for p in template_problems(item)]
    if isinstance(body, list | tuple):
        return [p for item in body for p in template_problems(item)]
    return []


def blueprint_problems(routes: Sequence[Route], create: str, states: Sequence[str]) -> list[str]:
    """Every declaration's problems, plus clashes among them and with the blueprint's own
    create route ``create`` (``/api/<version>/<endpoint>``)."""
    found = [p for route in routes for p in problems(route)]
    for i, route in enumerate(routes):
        if same_method(route.method, "POST") and overlap(route.path, create):
            found.append(
                f"route {route.method} {route.path} clashes with its create route {create}"
            )
        for other in routes[i + 1 :]:
            if same_method(route.method, other.method) and overlap(route.path, other.path):
                found.append(f"routes {route.method} {route.path} and {other.path} clash")
        if route.statuses is not None and not callable(route.statuses):
            for rule in route.statuses:
                if rule.state is not None and rule.state not in states:
                    found.append(
                        f"route {route.method} {route.path}: status rule {rule.value!r} names "
                        f"unknown state {rule.state!r}"
                    )
    return found
