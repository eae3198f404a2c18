"""One OpenAPI operation from one row of the path table (``paths.py``), and what the row
leaves to rules. From the route (``"GET /api/v1/jobs/{job_id}"``): the tag and security of
its prefix, the parameters of its placeholders. From the handler's query Struct: the query
parameters (``queries.parameters``). The statuses every route of a kind answers, each with
the error envelope (``document.py`` describes them):

- 401 on /api and /_worker: no token or a wrong one (``middleware/front.py``), and 403 on
  /_worker: a token bound to another worker;
- 400 and 413 on a route that takes a body: bad JSON or fields, a body over the limit;
- 404 on a route of one job: no such job (of the caller's);
- 429 on /api but GET: the rate limit (``middleware/rate_limit.py``);
- 501 on the file routes: no S3; 503 on a route that reads storage: Redis does not answer.
"""

from __future__ import annotations

import re
from typing import Any

from msgspec import Struct

from orchestrator.api.files import FILENAME_PATTERN, FILENAME_RULE, MAX_FILENAME_BYTES
from orchestrator.api.openapi.schemas import ref
from orchestrator.api.queries import parameters

Operation = dict[str, Any]
Paths = dict[str, dict[str, Operation]]

PUBLIC, CLIENTS, WORKERS = "public", "clients", "workers"
_GROUPS = {"/_public/": PUBLIC, "/api/": CLIENTS, "/_worker/": WORKERS}
_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    PUBLIC: [],
    CLIENTS: [{"ClientToken": []}, {"ClientBearer": []}],  # either header
    WORKERS: [{"WorkerToken": []}],
}
_GUARDS = {PUBLIC: (), CLIENTS: (401,), WORKERS: (401, 403)}

JSON = "application/json"
FILENAME_SCHEMA = {"type": "string", "maxLength": MAX_FILENAME_BYTES, "pattern": FILENAME_PATTERN}


def path_param(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", **schema},
        "description": description,
    }


_PLACEHOLDERS = {
    "job_id": path_param("job_id", "The id `POST /api/{version}/{endpoint}` answered."),
    "worker_id": path_param("worker_id", "The id the worker registered with."),
    "filename": path_param("filename", FILENAME_RULE, **FILENAME_SCHEMA),
    "name": path_param("name", "The blueprint's name."),
    "version": path_param("version", "The blueprint's API version, e.g. `v1`."),
    "endpoint": path_param("endpoint", "The blueprint's endpoint (may hold `/`)."),
}


def header(
    name: str, schema: dict[str, Any], description: str, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "schema": schema,
        "description": description,
    }


def reply(schema: str | dict[str, Any], description: str, media: str = JSON) -> dict[str, Any]:
    """An answer with a body: a component's name or a schema."""
    body = ref(schema) if isinstance(schema, str) else schema
    return {"description": description, "content": {media: {"schema": body}}}


def body(schema: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": ref(schema)}}}


def operation(
    route: str,
    op_id: str,
    summary: str,
    answers: dict[int, Any],
    errors: tuple[int, ...] = (),
    *,
    query: type[Struct] | None = None,
    bounds: dict[str, dict[str, Any]] | None = None,
    params: tuple[dict[str, Any], ...] = (),
    body: dict[str, Any] | None = None,
    storage: bool = True,
    rules: bool = True,
) -> tuple[str, str, Operation]:
    """(path, method, operation) of ``route``; ``errors`` are the statuses the rules do not
    add, ``params`` the headers (and the path parameters of names the table does not know),
    ``bounds`` what the settings add to a query parameter's schema, ``storage`` whether the
    route reads storage (503). A route whose refusals have shapes of their own (a declared
    one) takes no rule but the token's."""
    method, path = route.split(" ")
    group = next(g for prefix, g in _GROUPS.items() if path.startswith(prefix))
    shared = set(_GUARDS[group])
    if rules:
        shared |= {400, 413} if body is not None else set()
        shared |= {404} if "{job_id}" in path else set()
        shared |= {429} if group == CLIENTS and method != "GET" else set()
        shared |= {501} if "/files" in path else set()
        shared |= {503} if storage else set()
    responses: dict[str, Any] = {str(status): answer for status, answer in answers.items()}
    for status in sorted({*errors, *shared} - answers.keys()):
        responses[str(status)] = {"$ref": f"#/components/responses/{status}"}
    given = {(p["name"], p["in"]) for p in params}
    placeholders = (_PLACEHOLDERS.get(name) for name in re.findall(r"{(\w+)}", path))
    every = [p for p in placeholders if p and (p["name"], "path") not in given] + [*params]
    every += parameters(query, **(bounds or {})) if query else []
    op: Operation = {
        "operationId": op_id,
        "summary": summary,
        "tags": [group],
        "security": _SECURITY[group],
        "responses": dict(sorted(responses.items())),
    }
    if every:
        op["parameters"] = every
    if body is not None:
        op["requestBody"] = body
    return path, method.lower(), op


def table(*rows: tuple[str, str, Operation], notes: dict[str, str]) -> Paths:
    """The rows as OpenAPI ``paths``, each operation described by its note, if any."""
    paths: Paths = {}
    for path, method, op in rows:
        if op["operationId"] in notes:
            op["description"] = notes[op["operationId"]]
        paths.setdefault(path, {})[method] = op
    return paths
