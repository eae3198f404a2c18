"""Job files in S3, for clients (``/api``) and for the worker holding the job's task
(``/_worker``). ``docs/files.md`` is the user guide.

Each group has a presigned link to upload straight to S3, a streaming upload through this
process, and a stable download link that redirects to a fresh presigned GET. With no bucket
configured every route answers 501 ``S3_NOT_CONFIGURED``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar, get_args
from urllib.parse import quote

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from msgspec import Meta, Struct

from orchestrator.api import queries, schemas
from orchestrator.api.answers.jobs import FileList, StoredFile, Uploaded, UploadLink
from orchestrator.api.middleware import CLIENT, require_worker, streams_body
from orchestrator.api.render import typed_response
from orchestrator.appkeys import RUNNER, SETTINGS, STORE
from orchestrator.engine.model import TaskStatus
from orchestrator.errors import (
    BadRequest,
    ConfigError,
    Conflict,
    NotFound,
    OrchestratorError,
    PayloadTooLarge,
)

if TYPE_CHECKING:
    from orchestrator.s3 import S3Files

routes = web.RouteTableDef()

S3_FILES: web.AppKey[S3Files] = web.AppKey("s3_files")
"""Set at startup only when a bucket is configured."""

MAX_FILENAME_BYTES = 255
"""What most file systems allow, so that a worker can save the file under its own name."""
FILENAME_PATTERN = schemas.anchored(r"(?!\.$)(?!.*\.\.)[^/\\\x00-\x1f\x7f-\x9f]+")
"""What ``check_filename`` takes, but for the byte limit (JSON Schema counts characters)."""
READ_CHUNK = 256 * 1024
FILENAME_RULE = (
    f"A plain file name: not `.`, no `/`, `\\`, `..` or control characters, at most "
    f"{MAX_FILENAME_BYTES} bytes in UTF-8 (`400 INVALID_FILENAME` otherwise)."
)


class S3NotConfigured(OrchestratorError):
    status = 501
    code = "S3_NOT_CONFIGURED"


def check_filename(name: str | None) -> str:
    """``name`` when it is a plain file name, which keeps every key inside its job's prefix.

    Raises:
        ValueError: Saying what is wrong with it.
    """
    if not name:
        raise ValueError("a file name is required")
    if "/" in name or "\\" in name:
        raise ValueError("a file name cannot hold '/' or '\\'")
    if ".." in name or name == ".":
        raise ValueError("a file name cannot be '.' or hold '..'")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise ValueError("a file name cannot hold control characters")
    if len(name.encode()) > MAX_FILENAME_BYTES:
        raise ValueError(f"a file name is at most {MAX_FILENAME_BYTES} bytes (UTF-8)")
    return name


async def s3_context(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx`` hook: one S3 client for the life of the app."""
    try:
        from orchestrator.s3 import S3Files
    except ImportError as exc:
        raise ConfigError(
            "s3_bucket is set but aioboto3 is not installed: "
            "pip install 'blueprint-orchestrator[s3]'"
        ) from exc
    async with S3Files.open(app[SETTINGS].s3) as files:
        app[S3_FILES] = files
        yield


# -- /api: the client's own jobs ------------------------------------------------------------


@routes.get("/api/v1/jobs/{job_id}/files")
async def list_files(request: web.Request) -> web.Response:
    s3 = _s3(request)
    job_id = await _client_job(request)
    files, truncated = await s3.listing(job_id)
    listed = [
        StoredFile(
            filename=f.filename,
            size=f.size,
            last_modified=f.last_modified,
            download_url=f"/api/v1/jobs/{job_id}/files/download/{quote(f.filename)}",
        )
        for f in files
    ]
    return typed_response(FileList(job_id, listed, truncated))


Via = Literal["s3", "orchestrator"]
DOWNLOAD_VIA: tuple[str, ...] = get_args(Via)
_VIA = (
    "`s3` (the default): a redirect to a presigned S3 link. `orchestrator`: the bytes "
    "themselves, streamed from S3 through the orchestrator, for a client that cannot reach S3 "
    "or may talk to one origin only (a browser page such as the console)."
)
Expires = Annotated[int, Meta(ge=1, description="Link validity in seconds.")]
"""At most ``s3_max_expires_s``, which ``_query`` checks and the OpenAPI document says."""


class LinkQuery(Struct, kw_only=True):
    expires_in: Expires | None = None


class UploadQuery(Struct, kw_only=True):
    # Also checked by ``check_filename``: it counts bytes, JSON Schema characters.
    filename: Annotated[
        str,
        Meta(max_length=MAX_FILENAME_BYTES, pattern=FILENAME_PATTERN, description=FILENAME_RULE),
    ]
    expires_in: Expires | None = None


class DownloadQuery(Struct, kw_only=True):
    via: Annotated[Via, Meta(description=_VIA)] = "s3"
    expires_in: Expires | None = None


Q = TypeVar("Q", LinkQuery, UploadQuery, DownloadQuery)


def _query(request: web.Request, shape: type[Q]) -> tuple[Q, int]:
    """The query, and how long its link lasts: ``expires_in`` bounded by the settings, or
    their default."""
    settings = request.app[SETTINGS].s3
    longest = settings.max_expires_s

    def expiry(field: str, value: object) -> str | None:
        if field == "expires_in" and isinstance(value, int) and value > longest:
            return f"must be between 1 and {longest}"
        return None

    problems = {
        "expires_in": queries.integer(1, longest),
        "filename": _refuse_filename,
        "via": lambda raw: f"{raw!r} is not one of {', '.join(DOWNLOAD_VIA)}",
    }
    query = queries.parse(request.query, shape, problems, expiry)
    return query, query.expires_in or settings.presign_expires_s


@routes.get("/api/v1/jobs/{job_id}/files/upload")
async def upload_url(request: web.Request) -> web.Response:
    s3 = _s3(request)
    query, expires_s = _query(request, UploadQuery)
    filename = _filename(query.filename)
    key = s3.key(await _client_job(request), filename)
    url = await s3.presign("put_object", key, expires_s)
    return typed_response(UploadLink(url, expires_s, "PUT", s3_uri=s3.uri(key)))


@routes.put("/api/v1/jobs/{job_id}/files/content/{filename:[^/]+}")
@streams_body  # s3_max_upload_bytes, not max_body_bytes
async def upload(request: web.Request) -> web.Response:
    s3 = _s3(request)
    filename = _filename(request.match_info["filename"])
    return await _receive(request, s3, await _client_job(request), filename)


@routes.get("/api/v1/jobs/{job_id}/files/download/{filename:[^/]+}")
async def download(request: web.Request) -> web.StreamResponse:
    s3 = _s3(request)
    filename = _filename(request.match_info["filename"])
    query, expires_s = _query(request, DownloadQuery)
    job_id = await _client_job(request)
    if query.via == "orchestrator":
        return await _send(request, s3, job_id, filename)
    return await _redirect(s3, job_id, filename, expires_s)


# -- /_worker: the worker holding the job's task ----------------------------------------------


@routes.put("/_worker/jobs/{job_id}/files/content/{filename:[^/]+}")
@streams_body  # s3_max_upload_bytes, not max_body_bytes
async def worker_upload(request: web.Request) -> web.Response:
    s3 = _s3(request)
    filename = _filename(request.match_info["filename"])
    return await _receive(request, s3, await _worker_job(request), filename)


@routes.get("/_worker/jobs/{job_id}/files/download/{filename:[^/]+}")
async def worker_download(request: web.Request) -> web.Response:
    s3 = _s3(request)
    filename = _filename(request.match_info["filename"])
    _, expires_s = _query(request, LinkQuery)
    return await _redirect(s3, await _worker_job(request), filename, expires_s)


# -- shared steps ----------------------------------------------------------------------------


def _s3(request: web.Request) -> S3Files:
    s3 = request.app.get(S3_FILES)
    if s3 is None:
        raise S3NotConfigured("file storage (S3) is not configured on this orchestrator")
    return s3


def _filename(raw: str | None) -> str:
    try:
        return check_filename(raw)
    except ValueError as exc:
        raise BadRequest(str(exc), code="INVALID_FILENAME", details={"filename": raw}) from exc


def _refuse_filename(raw: object) -> str:
    """The problem of a refused ``filename``: ``check_filename``'s 400, which names it."""
    _filename(raw if isinstance(raw, str) else None)
    return "is invalid"


async def _client_job(request: web.Request) -> str:
    """The job id, once it is known to belong to the caller (404 otherwise, as for status)."""
    job = await request.app[RUNNER].get(request.match_info["job_id"], request[CLIENT])
    return job.id


async def _worker_job(request: web.Request) -> str:
    """The job id, once the calling worker is known to hold the job's task."""
    job_id = request.match_info["job_id"]
    worker_id = request.headers.get("X-Worker-Id")
    if not worker_id:
        raise BadRequest(
            "the X-Worker-Id header is required: the id of the worker holding the job's task",
            code="VALIDATION_ERROR",
            details={"field": "X-Worker-Id"},
        )
    require_worker(request, worker_id)
    job = await request.app[STORE].load(job_id)
    if job is None:
        raise NotFound(f"no job {job_id}", code="JOB_NOT_FOUND")
    # The job's task, or one of its parallel branches (each branch is a task of the job).
    held = [t for t in (job.task, *job.branches.values()) if t is not None]
    if not any(t.status == TaskStatus.LEASED and t.worker == worker_id for t in held):
        raise Conflict(f"worker {worker_id} holds no task of job {job_id}", code="TASK_NOT_HELD")
    return job.id


async def _receive(request: web.Request, s3: S3Files, job_id: str, filename: str) -> web.Response:
    # request.content is not bound by client_max_size (only read()/post() are), so the body
    # streams through in chunks and the upload enforces its own limit.
    limit = request.app[SETTINGS].s3.max_upload_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"file larger than {limit} bytes", details={"max_bytes": limit})
    key = s3.key(job_id, filename)
    uploaded = await s3.upload(
        key,
        _body(request),
        max_bytes=limit,
        content_type=request.headers.get(hdrs.CONTENT_TYPE),
    )
    return typed_response(
        Uploaded("uploaded", s3.uri(key), filename, uploaded.size, uploaded.sha256)
    )


async def _body(request: web.Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.content.iter_chunked(READ_CHUNK):
            yield chunk
    except (ConnectionResetError, HttpProcessingError) as exc:
        raise BadRequest(
            "the upload ended before the whole body arrived", code="UPLOAD_INCOMPLETE"
        ) from exc


async def _redirect(s3: S3Files, job_id: str, filename: str, expires_s: int) -> web.Response:
    key = s3.key(job_id, filename)
    if not await s3.exists(key):
        raise NotFound(f"job {job_id} has no file {filename!r}", code="FILE_NOT_FOUND")
    url = await s3.presign("get_object", key, expires_s)
    # The link is fresh on every request: no cache may keep an expired one.
    return web.Response(status=302, headers={hdrs.LOCATION: url, hdrs.CACHE_CONTROL: "no-store"})


async def _send(
    request: web.Request, s3: S3Files, job_id: str, filename: str
) -> web.StreamResponse:
    found = await s3.read(s3.key(job_id, filename), READ_CHUNK)
    if found is None:
        raise NotFound(f"job {job_id} has no file {filename!r}", code="FILE_NOT_FOUND")
    size, chunks = found
    # Bytes to save, never a page to show: whatever was uploaded (HTML, SVG) cannot run as
    # this origin, where the console and its token live.
    response = web.StreamResponse(
        headers={
            hdrs.CONTENT_TYPE: "application/octet-stream",
            hdrs.CONTENT_DISPOSITION: f"attachment; filename*=UTF-8''{quote(filename)}",
            hdrs.CACHE_CONTROL: "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        }
    )
    response.content_length = size
    async with aclosing(chunks):
        await response.prepare(request)
        async for chunk in chunks:
            # S3 failing past this point cuts the body short of its Content-Length: the
            # client sees an incomplete download, not a wrong file.
            await response.write(chunk)
    await response.write_eof()
    return response
