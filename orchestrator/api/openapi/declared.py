"""The OpenAPI operations of the routes blueprints declare (``blueprint/routes.py``).

They are generated from the declarations, like the concrete create route of each blueprint:
the request media types and form fields, each status the route answers, and the shape of
each body. A body declared as a template gives its schema: literal values are ``const``, a
whole placeholder is any JSON value, text with placeholders a string. A body computed by a
Python callable is any JSON value. Operations carry ``x-blueprint-route`` (the blueprint).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from orchestrator.api.openapi.operations import (
    JSON,
    Operation,
    Paths,
    header,
    operation,
    path_param,
    reply,
)
from orchestrator.blueprint import templates
from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.routes import (
    ActionRoute,
    Body,
    ReadRoute,
    Reply,
    Route,
    StartRoute,
    kind,
    param_of,
)

_FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "boolean": {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no", "on", "off"]},
    "integer": {"type": "string", "pattern": r"^\s*[-+]?\d+\s*$"},
    "number": {"type": "string"},
    "json": {"type": "string", "contentMediaType": JSON},
}


def declared_paths(blueprints: Iterable[Blueprint]) -> Paths:
    paths: Paths = {}
    for bp in blueprints:
        for route in bp.routes:
            op = _operation(bp, route)
            op["x-blueprint-route"] = bp.name
            paths.setdefault(route.path, {})[route.method.lower()] = op
    return paths


def shape(body: Body) -> dict[str, Any]:
    """The JSON schema of what a body renders to (see the module's docstring)."""
    if callable(body):
        return {}
    if isinstance(body, str):
        if templates.is_whole(body):
            return {}
        return {"type": "string"} if "{{" in body else {"const": body}
    if isinstance(body, Mapping):
        return {
            "type": "object",
            "properties": {key: shape(value) for key, value in body.items()},
            "required": list(body),
        }
    if isinstance(body, list | tuple):
        return {"type": "array", "prefixItems": [shape(item) for item in body]}
    return {"const": body}


def _answer(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return reply(dict(schema), description)


def _op_id(bp: Blueprint, route: Route) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", route.path.removeprefix("/api/")).strip("_")
    return f"route_{kind(route)}_{bp.name}_{route.method.lower()}_{slug}"


def _operation(bp: Blueprint, route: Route) -> Operation:
    summary = route.summary or f"{kind(route).capitalize()} route of blueprint {bp.name}"
    if isinstance(route, StartRoute):
        return _start(bp, route, summary)
    refusal = _answer("Refused (the route's error shape).", shape(route.error))
    if route.error is None:
        refusal = reply("Error", "Refused.")
    answers: dict[int, Any] = {route.ok.status: _reply("The answer.", route.ok, route)}
    replies: list[tuple[str, Reply | None, int]] = [
        ("No such job (of this blueprint).", route.not_found, 404)
    ]
    if isinstance(route, ActionRoute):
        replies += [
            ("The job waits for no decision (decided, or ended).", route.not_waiting, 409),
            ("A decision or field the step does not take, or a role mismatch.", route.invalid, 400),
        ]
    for description, given, usual in replies:
        if given is None:  # left out: the error envelope, with the usual status
            answers.setdefault(usual, reply("Error", description))
        else:
            answers.setdefault(given.status, _answer(description, shape(given.body)))
    answers.setdefault(401, refusal)
    params = (path_param(param_of(route) or "id", "The job's id."),)
    body = None
    if isinstance(route, ActionRoute):
        answers.setdefault(400, refusal)
        answers.setdefault(413, refusal)
        schema = dict(route.body_schema or _DECISION_BODY)
        body = {"required": False, "content": {JSON: {"schema": schema}}}
    return _operation_of(route, _op_id(bp, route), summary, answers, params, body)


_DECISION_BODY = {
    "type": "object",
    "properties": {
        "actor": {"type": "string"},
        "actor_roles": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "string"},
        "data": {"type": "object"},
    },
}


def _reply(description: str, reply: Reply, route: ActionRoute | ReadRoute) -> dict[str, Any]:
    schema = route.ok_schema if route.ok_schema is not None else shape(reply.body)
    return _answer(description, schema)


def _operation_of(
    route: Route,
    op_id: str,
    summary: str,
    answers: dict[int, Any],
    params: tuple[dict[str, Any], ...],
    body: dict[str, Any] | None,
) -> Operation:
    """The operation, with the route's own answers to what the rules would add (401, 413)."""
    verb = f"{route.method} {route.path}"
    return operation(verb, op_id, summary, answers, params=params, body=body, rules=False)[2]


def _start(bp: Blueprint, route: StartRoute, summary: str) -> Operation:
    failure = shape(route.failure)
    answers: dict[int, Any] = {
        200: _answer(
            "The job finished within the wait: its result.",
            route.result_schema if route.result_schema is not None else shape(route.result),
        ),
        202: _answer("The job runs on past the wait.", shape(route.accepted)),
    }
    for code, status in sorted(route.errors.items(), key=lambda item: (item[1], item[0])):
        answers.setdefault(status, _answer(f"The job failed with {code}.", failure))
    for status, what in (
        (500, "The job failed with an unmapped code (`INTERNAL_ERROR`)."),
        (400, "A body that is not a JSON object, or a form field of the wrong type."),
        (401, "No client token (`MISSING_AUTH_HEADER`) or a wrong one (`UNAUTHORIZED`)."),
        (409, "The job's id is another client's job (`JOB_ID_TAKEN`)."),
        (413, "A body or a field over the configured limit."),
        (415, "A media type the route does not take."),
    ):
        answers.setdefault(status, _answer(what, failure))
    if route.files is not None:
        answers.setdefault(501, _answer("A file part, and no S3 (`S3_NOT_CONFIGURED`).", failure))
    content: dict[str, Any] = {JSON: {"schema": dict(route.body_schema or {"type": "object"})}}
    if route.form is not None:
        fields = {name: _FIELD_SCHEMAS[kind_] for name, kind_ in route.form.items()}
        form = {"type": "object", "properties": fields}
        content["application/x-www-form-urlencoded"] = {"schema": form}
        if route.files is not None:
            files = {"type": "string", "format": "binary"}
            content["multipart/form-data"] = {"schema": {**form, "additionalProperties": files}}
        else:
            content["multipart/form-data"] = {"schema": form}
    job_id = {"type": "string", "pattern": r"^[A-Za-z0-9._:\-]{1,128}$"}
    params = tuple(
        header(source.partition(".")[2], job_id, "The job's id.")
        for source in route.job_id_from
        if source.startswith("header.")
    )
    if route.actor_header:
        who = "Who starts the job: `initial_data.actor`, unless the body names an `actor`."
        params += (header(route.actor_header, {"type": "string"}, who),)
    body = {"required": False, "content": content}
    return _operation_of(route, _op_id(bp, route), summary, answers, params, body)
