"""``S3Files``: job files in one S3 bucket, over one aioboto3 client opened at startup.

Object keys are ``{key_prefix}/{job_id}/{filename}``. Callers check the file name first
(:func:`orchestrator.api.files.check_filename`); this module trusts it.

This module imports aioboto3, an optional extra (``pip install blueprint-orchestrator[s3]``),
so only the startup hook of ``orchestrator.api.files`` imports it, and only when a bucket is
configured.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from orchestrator.config import S3
from orchestrator.errors import PayloadTooLarge, Unavailable

log = logging.getLogger("orchestrator.s3")

PART_BYTES = 8 * 1024 * 1024
"""Multipart part size. S3 wants at least 5 MiB in every part but the last; one part is the
most an upload ever holds in memory, so 10,000 parts (the S3 limit) allow 80 GiB."""
MAX_CONNECTIONS = 64
"""HTTP connections to S3 per process; botocore's default of 10 would queue busy uploads."""
LIST_LIMIT = 1000
"""Files one listing returns (one S3 page)."""


@dataclass(frozen=True)
class Uploaded:
    key: str
    size: int
    sha256: str


@dataclass(frozen=True)
class StoredFile:
    filename: str
    size: int
    last_modified: str
    """ISO 8601, as S3 reports it."""


class S3Files:
    """Presigned links, existence checks and streaming uploads for one bucket."""

    def __init__(self, client: Any, bucket: str, key_prefix: str) -> None:
        self._client = client  # aiobotocore's S3 client: untyped
        self.bucket = bucket
        self.key_prefix = key_prefix

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: S3) -> AsyncIterator[S3Files]:
        """One client for the life of the app: it holds the connection pool."""
        if not settings.bucket:
            raise ValueError("S3 is not configured (no s3_bucket)")
        session = aioboto3.Session(
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            region_name=settings.region,
        )
        config = Config(
            signature_version="s3v4",
            max_pool_connections=MAX_CONNECTIONS,
            retries={"mode": "standard", "max_attempts": 3},
        )
        async with session.client(
            "s3", endpoint_url=settings.endpoint_url, config=config
        ) as client:
            yield cls(client, settings.bucket, settings.key_prefix)

    def key(self, job_id: str, filename: str) -> str:
        return f"{self.key_prefix}/{job_id}/{filename}"

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    async def presign(self, operation: str, key: str, expires_s: int) -> str:
        """A URL for ``get_object`` or ``put_object`` on ``key``; signing needs no request."""
        params = {"Bucket": self.bucket, "Key": key}
        try:
            url = await self._client.generate_presigned_url(
                operation, Params=params, ExpiresIn=expires_s
            )
        except BotoCoreError as exc:  # e.g. no credentials found
            raise _unavailable("generate_presigned_url", exc) from exc
        return str(url)

    async def exists(self, key: str) -> bool:
        try:
            await self._call("head_object", Key=key)
        except Unavailable as exc:
            if exc.details.get("s3_code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    async def read(
        self, key: str, chunk_bytes: int
    ) -> tuple[int, AsyncGenerator[bytes, None]] | None:
        """The object's size and its bytes, read from S3 as they are consumed (one chunk in
        memory at a time); None when there is no such object. Close the iterator (its
        ``aclose``) if it is not read to the end: that gives the connection back."""
        try:
            answer = await self._call("get_object", Key=key)
        except Unavailable as exc:
            if exc.details.get("s3_code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        body = answer["Body"]

        async def chunks() -> AsyncGenerator[bytes, None]:
            async with body:
                try:
                    async for chunk in body.iter_chunks(chunk_bytes):
                        yield chunk
                except (BotoCoreError, ClientError, OSError) as exc:
                    raise _unavailable("get_object", exc) from exc

        return int(answer["ContentLength"]), chunks()

    async def listing(self, job_id: str) -> tuple[list[StoredFile], bool]:
        """The job's files (at most ``LIST_LIMIT``) and whether there are more."""
        prefix = f"{self.key_prefix}/{job_id}/"
        page = await self._call("list_objects_v2", Prefix=prefix, MaxKeys=LIST_LIMIT)
        files = [
            StoredFile(
                filename=item["Key"][len(prefix) :],
                size=int(item["Size"]),
                last_modified=item["LastModified"].isoformat(),
            )
            for item in page.get("Contents", [])
        ]
        return files, bool(page.get("IsTruncated"))

    async def upload(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int,
        content_type: str | None = None,
    ) -> Uploaded:
        """Stream ``chunks`` to ``key`` holding at most one part in memory.

        A body that fits in one part is one ``PutObject``; a longer one is a multipart upload,
        aborted on any error (including a client that disconnects) so that no orphan parts
        are left to bill for.

        Raises:
            PayloadTooLarge: Past ``max_bytes``; nothing is stored.
            Unavailable: S3 failed.
        """
        extra = {"ContentType": content_type} if content_type else {}
        digest = hashlib.sha256()
        part = bytearray()
        size = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(
                        f"file larger than {max_bytes} bytes", details={"max_bytes": max_bytes}
                    )
                digest.update(chunk)
                part += chunk
                if len(part) < PART_BYTES:
                    continue
                if upload_id is None:
                    created = await self._call("create_multipart_upload", Key=key, **extra)
                    upload_id = str(created["UploadId"])
                # botocore takes the bytearray as is; a fresh one avoids copying the part.
                parts.append(await self._part(key, upload_id, len(parts) + 1, part))
                part = bytearray()
            if upload_id is None:
                await self._call("put_object", Key=key, Body=part, **extra)
            else:
                if part:
                    parts.append(await self._part(key, upload_id, len(parts) + 1, part))
                await self._call(
                    "complete_multipart_upload",
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            if upload_id is not None:
                await self._abort(key, upload_id)
            raise
        return Uploaded(key=key, size=size, sha256=digest.hexdigest())

    async def _part(self, key: str, upload_id: str, number: int, body: bytearray) -> dict[str, Any]:
        answer = await self._call(
            "upload_part", Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    async def _abort(self, key: str, upload_id: str) -> None:
        # Shielded: a cancelled request must still abort, or S3 keeps (and bills) the parts.
        abort = self._call("abort_multipart_upload", Key=key, UploadId=upload_id)
        try:
            await asyncio.shield(abort)
        except Exception as exc:
            log.warning("could not abort multipart upload %s of %s: %s", upload_id, key, exc)

    async def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = await getattr(self._client, operation)(
                Bucket=self.bucket, **kwargs
            )
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(operation, exc) from exc
        return answer


def _unavailable(operation: str, exc: Exception) -> Unavailable:
    if isinstance(exc, ClientError):
        s3_code = str(exc.response.get("Error", {}).get("Code", ""))
        return Unavailable(
            f"S3 refused {operation}: {s3_code or exc}",
            code="S3_ERROR",
            details={"s3_code": s3_code, "operation": operation},
        )
    return Unavailable(
        f"S3 is not answering ({operation}): {exc}",
        code="S3_UNAVAILABLE",
        details={"operation": operation},
    )
