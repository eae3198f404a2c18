"""/_public/openapi.json (the OpenAPI 3.1 document of every route) and /_public/docs (a page
that reads it, with no CDN: it works offline).

The document is built per request, so that the concrete create route of every blueprint in
the registry is in it; ``paths.py`` has the operations, ``schemas.py`` and ``answers.py`` the
bodies. ``tests/openapi`` checks it against the app's routes and fuzzes the API from it.
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aiohttp import web

from orchestrator.api.openapi.answers import ANSWERS
from orchestrator.api.openapi.declared import declared_paths
from orchestrator.api.openapi.operations import CLIENTS, PUBLIC, WORKERS
from orchestrator.api.openapi.paths import paths
from orchestrator.api.openapi.schemas import REQUESTS, new_job, ref
from orchestrator.api.render import json_response
from orchestrator.appkeys import REGISTRY, SETTINGS
from orchestrator.blueprint.dsl import Blueprint
from orchestrator.config import Settings

routes = web.RouteTableDef()

_ERRORS = {
    400: "Bad input: malformed JSON (`INVALID_JSON`) or a field that breaks the schema "
    "(`VALIDATION_ERROR`, `details.field` names it).",
    401: "No token (`MISSING_AUTH_HEADER`), or a wrong one (`UNAUTHORIZED`).",
    403: "The token may not act on this (`WORKER_TOKEN_MISMATCH`, `INVALID_APPROVAL_TOKEN`).",
    404: "Unknown route, job (`JOB_NOT_FOUND`, also for another client's job), blueprint, "
    "worker or file.",
    409: "The request conflicts with the resource's state; `details` says how.",
    413: "Body over the configured limit (`PAYLOAD_TOO_LARGE`, `details.max_bytes`).",
    429: "Rate limit exceeded (`RATE_LIMITED`); retry after `Retry-After` seconds.",
    501: "File storage (S3) is not configured on this orchestrator (`S3_NOT_CONFIGURED`).",
    503: "Storage (Redis) does not answer or the job changes too fast; try again.",
}

_REQUEST_ID = {
    "description": "The request's id, in every log line about it; a plain `X-Request-Id` "
    "sent with the request is kept.",
    "schema": {"type": "string"},
}


def _error_response(status: int) -> dict[str, Any]:
    headers: dict[str, Any] = {"X-Request-Id": _REQUEST_ID}
    if status == 429:
        headers["Retry-After"] = {
            "required": True,
            "description": "Seconds to wait.",
            "schema": {"type": "integer", "minimum": 1},
        }
    return {
        "description": _ERRORS[status],
        "headers": headers,
        "content": {"application/json": {"schema": ref("Error")}},
    }


def _one_each(*groups: dict[str, Any]) -> dict[str, Any]:
    """The components of every module, each name once: a name given twice would hide one."""
    merged: dict[str, Any] = {}
    for group in groups:
        if clash := merged.keys() & group.keys():
            raise RuntimeError(f"OpenAPI components named twice: {sorted(clash)}")
        merged.update(group)
    return merged


_SCHEMAS = _one_each(REQUESTS, ANSWERS)


def _version() -> str:
    try:
        return version("blueprint-orchestrator")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


def build_document(settings: Settings, blueprints: list[Blueprint]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of an app built with ``settings`` serving ``blueprints``."""
    every = paths(settings, blueprints)
    every.update(declared_paths(blueprints))  # the routes blueprints declare (routes.py)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Blueprint orchestrator",
            "version": _version(),
            "description": "Jobs run blueprints (state machines); workers take their tasks. "
            'Every error answers `{"error": {"code", "message", "details"}}`. '
            "`docs/api.md` is the guide, with curl examples.",
        },
        "tags": [
            {"name": PUBLIC, "description": "`/_public`: no token."},
            {"name": CLIENTS, "description": "`/api`: client systems (`X-Client-Token`)."},
            {"name": WORKERS, "description": "`/_worker`: workers (`X-Worker-Token`)."},
        ],
        "paths": dict(sorted(every.items())),
        "components": {
            "schemas": {**_SCHEMAS, "NewJob": new_job(settings)},
            "responses": {str(status): _error_response(status) for status in _ERRORS},
            "securitySchemes": {
                "ClientToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Client-Token",
                    "description": "A client's token from the config file; it sees only its "
                    "own jobs.",
                },
                "ClientBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The same client token as `Authorization: Bearer <token>`.",
                },
                "WorkerToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Worker-Token",
                    "description": "The global worker token, or one bound to a worker id.",
                },
            },
        },
    }


@routes.get("/_public/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    app = request.app
    return json_response(build_document(app[SETTINGS], app[REGISTRY].all()))


@functools.cache
def docs_page() -> str:
    return resources.files("orchestrator.api").joinpath("static/docs.html").read_text("utf-8")


@routes.get("/_public/docs")
async def docs(request: web.Request) -> web.Response:
    return web.Response(text=docs_page(), content_type="text/html")
