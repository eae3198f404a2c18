"""/_worker/tasks/progress: a running task says how far it got (``shell/progress.py``)."""

from __future__ import annotations

import math
from typing import Any

import orjson
from aiohttp import web

from orchestrator.api import schemas
from orchestrator.api.middleware import read_json, require_worker
from orchestrator.api.render import json_response
from orchestrator.appkeys import RUNNER
from orchestrator.shell import progress

routes = web.RouteTableDef()

MAX_MESSAGE = 200
"""Characters of a report's ``message``: it goes into the job's history."""
MAX_DATA_BYTES = 4096
"""Encoded size of a report's ``data``: every report is kept in the history."""


def task_progress(body: object) -> dict[str, Any]:
    data = schemas._object(body, "the body")
    for field in ("job_id", "task_id", "worker_id"):
        schemas._string(data, field)
    # Like a decline, a report names its attempt: a late one of an attempt that is over must
    # not show as the progress of the next.
    data = {**data, "attempt": schemas.integer(data.get("attempt"), "attempt", 1)}
    fraction = data.get("fraction")
    if fraction is not None and (
        isinstance(fraction, bool)
        or not isinstance(fraction, int | float)
        or not math.isfinite(fraction)
        or not 0 <= fraction <= 1
    ):
        raise schemas._invalid("fraction", "must be a number from 0 to 1, or null")
    message = data.get("message")
    if message is not None and (not isinstance(message, str) or len(message) > MAX_MESSAGE):
        raise schemas._invalid("message", f"must be a string of at most {MAX_MESSAGE} characters")
    extra = data.get("data")
    if extra is not None and (
        not isinstance(extra, dict) or len(orjson.dumps(extra)) > MAX_DATA_BYTES
    ):
        raise schemas._invalid("data", f"must be an object of at most {MAX_DATA_BYTES} bytes")
    return data


@routes.post("/_worker/tasks/progress")
async def report(request: web.Request) -> web.Response:
    body = task_progress(await read_json(request))
    require_worker(request, body["worker_id"])
    answer = await progress.report(request.app[RUNNER], body["worker_id"], body)
    return json_response({"status": answer})
