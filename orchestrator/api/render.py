"""JSON responses: a dict by orjson, a typed answer (``api/answers/``) by msgspec; the
client's view of a job is in ``orchestrator/views.py``."""

from __future__ import annotations

from typing import Any

import msgspec
import orjson
from aiohttp import web

# Re-exported: the routes import them from here with ``json_response``.
from orchestrator.views import event_view as event_view
from orchestrator.views import iso as iso
from orchestrator.views import job_view as job_view

_ENCODER = msgspec.json.Encoder()


def typed_response(body: msgspec.Struct, status: int = 200) -> web.Response:
    """An answer typed by the Struct the OpenAPI document describes it with; its unset
    fields are left out."""
    return web.Response(body=_ENCODER.encode(body), status=status, content_type="application/json")


def json_response(body: Any, status: int = 200, **kwargs: Any) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", **kwargs
    )
