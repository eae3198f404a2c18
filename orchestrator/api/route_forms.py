"""A declared start route's ``multipart/form-data`` body: typed fields for ``initial_data``,
file parts streamed to S3 as the job's files.

A file is stored under the job's id, so the id is settled when the first file part arrives
(or at the end of a form without files): ``settle`` is given the fields read so far. A field
read after that point cannot change the id any more; ``settle`` is told of it and may refuse.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from aiohttp import BodyPartReader, web

from orchestrator.api.decode import invalid
from orchestrator.api.files import S3_FILES, S3NotConfigured, check_filename
from orchestrator.appkeys import SETTINGS
from orchestrator.blueprint.routes import StartRoute
from orchestrator.errors import BadRequest, PayloadTooLarge

Settle = Callable[[dict[str, Any]], Awaitable[str]]
"""Fields read so far → the job's id."""

READ_CHUNK = 256 * 1024
MAX_FIELDS = 1000
MAX_FILES = 100
"""File parts of one request: each streams to S3 under ``s3_max_upload_bytes``, so the number
bounds what one request may store (the body is not held to ``max_body_bytes``)."""
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def typed(name: str, text: str, kind: str) -> Any:
    """A form field's text as the value its declared type says (``VALIDATION_ERROR`` else)."""
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise invalid(name, f"must be true or false, not {text[:40]!r}")
    if kind == "integer":
        try:
            return int(text.strip())
        except ValueError:
            raise invalid(name, f"must be an integer, not {text[:40]!r}") from None
    if kind == "number":
        try:
            value = float(text.strip())
        except ValueError:
            raise invalid(name, f"must be a number, not {text[:40]!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise invalid(name, "must be a finite number")
        return value
    if kind == "json":
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            raise invalid(name, "must be JSON") from None
    return text


async def read_form(
    request: web.Request, route: StartRoute, settle: Settle
) -> tuple[dict[str, Any], str]:
    """(``initial_data``, the job's id) from the multipart body."""
    declared = route.form or {}
    fields: dict[str, Any] = {}
    stored: list[dict[str, Any]] = []
    job_id: str | None = None
    reader = await request.multipart()
    limit = request.app[SETTINGS].http.max_body_bytes
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):  # a nested multipart: not a field nor a file
            raise BadRequest("nested multipart bodies are not accepted", code="VALIDATION_ERROR")
        name = part.name or ""
        if part.filename is not None:
            if len(stored) >= MAX_FILES:
                raise BadRequest(f"more than {MAX_FILES} file parts", code="VALIDATION_ERROR")
            if job_id is None:
                job_id = await settle(fields)
            stored.append(await _store(request, route, part, name, job_id, stored))
            continue
        if len(fields) >= MAX_FIELDS:
            raise BadRequest(f"more than {MAX_FIELDS} form fields", code="VALIDATION_ERROR")
        fields[name] = typed(name, await _text(part, name, limit), declared.get(name, "string"))
        if job_id is not None and name in _id_fields(route):
            raise invalid(name, "names the job's id: send it before any file part")
    if job_id is None:
        job_id = await settle(fields)
    if route.files is not None:
        fields[route.files] = stored
    return fields, job_id


async def read_urlencoded(request: web.Request, route: StartRoute) -> dict[str, Any]:
    """``initial_data`` from an ``application/x-www-form-urlencoded`` body (no files)."""
    declared = route.form or {}
    posted = await request.post()
    fields: dict[str, Any] = {}
    for name, value in posted.items():
        if not isinstance(value, str):  # only multipart carries files
            raise invalid(name, "file parts need multipart/form-data")
        fields[name] = typed(name, value, declared.get(name, "string"))
    if route.files is not None:
        fields[route.files] = []
    return fields


async def _text(part: BodyPartReader, name: str, limit: int) -> str:
    if not name:
        raise BadRequest("a form field without a name", code="VALIDATION_ERROR")
    buffer = bytearray()
    while chunk := await part.read_chunk(READ_CHUNK):
        buffer += chunk
        if len(buffer) > limit:  # read in chunks: a huge field is refused, not buffered
            raise PayloadTooLarge(f"field {name} larger than {limit} bytes")
    try:
        return part.decode(bytes(buffer)).decode(part.get_charset("utf-8"))
    except (UnicodeDecodeError, LookupError):
        raise invalid(name, "is not text in its charset") from None


def _id_fields(route: StartRoute) -> set[str]:
    return {s.partition(".")[2] for s in route.job_id_from if s.startswith("body.")}


async def _store(
    request: web.Request,
    route: StartRoute,
    part: BodyPartReader,
    field: str,
    job_id: str,
    stored: list[dict[str, Any]],
) -> dict[str, Any]:
    if route.files is None:
        raise invalid(field or "(file)", "this route takes no file parts")
    s3 = request.app.get(S3_FILES)
    if s3 is None:
        raise S3NotConfigured(
            "file storage (S3) is not configured on this orchestrator: file parts cannot be kept"
        )
    try:
        filename = check_filename(part.filename)
    except ValueError as exc:
        raise BadRequest(
            f"{field}: {exc}", code="INVALID_FILENAME", details={"filename": part.filename}
        ) from None
    if any(f["filename"] == filename for f in stored):
        raise invalid(field, f"two file parts are named {filename!r}")
    key = s3.key(job_id, filename)
    content_type = part.headers.get("Content-Type")
    uploaded = await s3.upload(
        key,
        _chunks(part),
        max_bytes=request.app[SETTINGS].s3.max_upload_bytes,
        content_type=content_type,
    )
    return {
        "field": field,
        "filename": filename,
        "size": uploaded.size,
        "content_type": content_type,
        "sha256": uploaded.sha256,
        "s3_uri": s3.uri(key),
    }


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(READ_CHUNK):
        yield part.decode(chunk)
