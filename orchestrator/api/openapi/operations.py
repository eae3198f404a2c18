"""Building blocks of the OpenAPI operations: one operation with the answers its group's
middleware's steps add (``middleware/front.py``: the token check's 401 on /api and /_worker,
the body size check's 413 on routes that take a body), and the parameters several routes
share."""

from __future__ import annotations

from typing import Any

from orchestrator.api.files import FILENAME_PATTERN, MAX_FILENAME_BYTES
from orchestrator.api.openapi.schemas import ref
from orchestrator.config import Settings

Operation = dict[str, Any]
Paths = dict[str, dict[str, Operation]]

PUBLIC, CLIENTS, WORKERS = "public", "clients", "workers"
_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    PUBLIC: [],
    CLIENTS: [{"ClientToken": []}, {"ClientBearer": []}],  # either header
    WORKERS: [{"WorkerToken": []}],
}
_GUARDS = {PUBLIC: (), CLIENTS: (401,), WORKERS: (401,)}

JSON = "application/json"


def json_body(schema: Any, description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def text_body(media: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"type": "string"}}}}


def operation(
    group: str,
    op_id: str,
    summary: str,
    answers: dict[int, Any],
    errors: tuple[int, ...] = (),
    *,
    params: tuple[dict[str, Any], ...] = (),
    body: dict[str, Any] | None = None,
    description: str | None = None,
) -> Operation:
    """One operation; ``errors`` are statuses answered with the error envelope."""
    responses: dict[str, Any] = {str(status): answer for status, answer in answers.items()}
    for status in sorted({*errors, *_GUARDS[group], *((413,) if body else ())}):
        responses[str(status)] = {"$ref": f"#/components/responses/{status}"}
    op: Operation = {
        "operationId": op_id,
        "summary": summary,
        "tags": [group],
        "security": _SECURITY[group],
        "responses": responses,
    }
    if description:
        op["description"] = description
    if params:
        op["parameters"] = list(params)
    if body is not None:
        op["requestBody"] = body
    return op


def path_param(name: str, description: str = "", **schema: Any) -> dict[str, Any]:
    param = {"name": name, "in": "path", "required": True, "schema": {"type": "string", **schema}}
    if description:
        param["description"] = description
    return param


def query(
    name: str, schema: dict[str, Any], description: str, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
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


def body(name: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": ref(name)}}}


JOB_ID = path_param("job_id", "The id `POST /api/{version}/{endpoint}` answered.")
WORKER_ID = path_param("worker_id", "The id the worker registered with.")
FILENAME_SCHEMA = {"type": "string", "maxLength": MAX_FILENAME_BYTES, "pattern": FILENAME_PATTERN}
FILENAME_RULE = (
    f"A plain file name: not `.`, no `/`, `\\`, `..` or control characters, at most "
    f"{MAX_FILENAME_BYTES} bytes in UTF-8 (`400 INVALID_FILENAME` otherwise)."
)
FILENAME = path_param("filename", FILENAME_RULE, **FILENAME_SCHEMA)


def expires(settings: Settings) -> dict[str, Any]:
    longest = settings.s3.max_expires_s
    schema = {"type": "integer", "minimum": 1, "maximum": longest}
    return query("expires_in", schema, f"Link validity in seconds (1-{longest}).")


X_WORKER_ID = header(
    "X-Worker-Id",
    {"type": "string", "minLength": 1},
    "The id of the worker holding the job's task.",
    required=True,
)
JOB_VIEW = json_body(ref("Job"), "The job.")


def octets() -> dict[str, Any]:
    return {
        "description": "The file's bytes; no body stores an empty file.",
        "required": False,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }


def redirect() -> dict[str, Any]:
    return {
        "description": "`Location` is a presigned GET link.",
        "headers": {"Location": {"schema": {"type": "string"}, "required": True}},
    }
