"""Job files from a task handler: download a job's inputs, upload its outputs.

Both go through the orchestrator's ``/_worker`` file routes, which let a worker reach a job's
files only while it holds that job's task. Bodies stream in chunks, so a file is never held in
memory whole::

    @worker.task("thumbnail")
    async def thumbnail(params: dict, ctx: TaskContext) -> dict:
        async with JobFiles(worker.settings, ctx.job_id) as files:
            await files.download(params["image"], workdir / "in.png")
            ...  # make workdir / "thumb.png"
            done = await files.upload(workdir / "thumb.png", "thumb.png")
        return {"thumbnail": done.s3_uri}
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import quote

import aiohttp
import orjson
from yarl import URL

from .client import _error_from
from .config import WorkerSettings
from .errors import ApiError

__all__ = ["JobFiles", "UploadedFile"]

CHUNK_BYTES = 1024 * 1024
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=300)
"""No total limit (files may be large); a stalled connection fails after 5 minutes."""


@dataclass(frozen=True)
class UploadedFile:
    """What the orchestrator stored."""

    filename: str
    s3_uri: str
    """``s3://bucket/key`` of the object."""
    size: int
    sha256: str
    """Hex SHA-256 of the bytes the orchestrator received."""


class JobFiles:
    """The files of one job, for the worker that holds the job's task.

    Use as ``async with JobFiles(settings, job_id) as files: ...`` or call :meth:`open` and
    :meth:`close`.

    Args:
        settings: The worker's settings (``worker.settings``): URL, token and worker id.
        job_id: The job whose files to reach (``ctx.job_id``).
        timeout: HTTP timeouts; by default no total limit and 5 minutes without progress.

    Raises (from every method):
        ApiError: The orchestrator refused (``TaskNotHeld`` when this worker no
            longer holds a task of the job, ``code == "FILE_NOT_FOUND"``...).
        ValueError: The file name holds a path (``/``, ``\\``, ``..``).
        aiohttp.ClientError: The connection failed.
    """

    def __init__(
        self,
        settings: WorkerSettings,
        job_id: str,
        *,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.job_id = job_id
        self._base = URL(settings.url).joinpath("_worker", "jobs", job_id, "files")
        # Sent to the orchestrator only: the session carries no default headers, so the
        # token never follows a redirect to S3.
        self._headers = {"X-Worker-Token": settings.token, "X-Worker-Id": settings.worker_id}
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> JobFiles:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def upload(
        self,
        source: str | os.PathLike[str] | bytes,
        filename: str,
        *,
        content_type: str | None = None,
    ) -> UploadedFile:
        """Store ``source`` (a path, streamed from disk, or bytes) as the job file ``filename``."""
        headers = dict(self._headers)
        if content_type:
            headers["Content-Type"] = content_type
        data: bytes | AsyncIterator[bytes]
        if isinstance(source, bytes):
            data = source
        else:
            path = Path(source)
            # A known length lets the orchestrator refuse an oversized file before any byte.
            headers["Content-Length"] = str((await asyncio.to_thread(path.stat)).st_size)
            data = _read(path)
        url = self._url("content", filename)
        async with self._http().put(url, data=data, headers=headers) as resp:
            raw = await resp.read()
            if resp.status != 200:
                raise _error_from(resp.status, resp.reason or "", raw)
        body: dict[str, Any] = orjson.loads(raw)
        return UploadedFile(
            filename=str(body.get("filename", filename)),
            s3_uri=str(body["s3_uri"]),
            size=int(body["size"]),
            sha256=str(body.get("sha256", "")),
        )

    async def download(self, filename: str, dest: str | os.PathLike[str]) -> Path:
        """Save the job file ``filename`` at ``dest`` (a file path) and return that path.

        The bytes go to ``<dest>.part`` first, renamed at the end, so ``dest`` never holds
        half a file.
        """
        session = self._http()
        url = self._url("download", filename)
        async with session.get(url, headers=self._headers, allow_redirects=False) as resp:
            if resp.status != 302:
                raise _error_from(resp.status, resp.reason or "", await resp.read())
            location = resp.headers["Location"]
        target = Path(dest)
        partial = target.with_name(target.name + ".part")
        # encoded=True: the presigned URL's signature covers its exact bytes.
        async with session.get(URL(location, encoded=True)) as resp:
            if resp.status != 200:
                text = (await resp.read())[:500].decode(errors="replace")
                raise ApiError(resp.status, "S3_DOWNLOAD_FAILED", text)
            out: IO[bytes] = await asyncio.to_thread(partial.open, "wb")
            try:
                async for chunk in resp.content.iter_chunked(CHUNK_BYTES):
                    await asyncio.to_thread(out.write, chunk)
            except BaseException:
                out.close()
                partial.unlink(missing_ok=True)
                raise
            out.close()
        await asyncio.to_thread(os.replace, partial, target)
        return target

    def _url(self, action: str, filename: str) -> URL:
        # Quoted whole, so that a name taken from task params can never climb into another
        # route ("../../workers/..."); the orchestrator checks the rest of the name.
        if filename in ("", ".", "..") or "/" in filename or "\\" in filename:
            raise ValueError(f"not a plain file name: {filename!r}")
        return self._base.joinpath(action, quote(filename, safe=""), encoded=True)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("JobFiles is not open: use `async with JobFiles(...)`")
        return self._session


async def _read(path: Path) -> AsyncIterator[bytes]:
    # File reads go to a thread: a slow disk must not stall the worker's event loop.
    f = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(f.read, CHUNK_BYTES):
            yield chunk
    finally:
        f.close()
