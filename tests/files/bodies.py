"""Request bodies made on the fly, and the requests the file tests repeat."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from tests.api.conftest import Api, client_headers

MiB = 1024 * 1024


async def chunks(total: int, size: int = MiB, seed: bytes = b"") -> AsyncIterator[bytes]:
    """``total`` bytes, made on the fly; the same seed gives the same bytes."""
    block = hashlib.sha256(seed).digest() * (size // 32 + 1)
    sent, n = 0, 0
    while sent < total:
        piece = (n.to_bytes(8, "big") + block)[: min(size, total - sent)]
        sent += len(piece)
        n += 1
        yield piece


async def digest_of(total: int, seed: bytes = b"") -> str:
    h = hashlib.sha256()
    async for piece in chunks(total, seed=seed):
        h.update(piece)
    return h.hexdigest()


async def fetch(url: str) -> tuple[int, bytes]:
    """GET an absolute (presigned) URL with a plain client: no orchestrator token."""
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.read()


async def download_link(api: Api, job_id: str, name: str, token: str | None = None) -> str:
    resp = await api.client.get(
        f"/api/v1/jobs/{job_id}/files/download/{name}",
        headers=client_headers(token) if token else client_headers(),
        allow_redirects=False,
    )
    assert resp.status == 302, await resp.text()
    assert resp.headers["Cache-Control"] == "no-store"
    return resp.headers["Location"]


async def put_content(api: Api, job_id: str, name: str, data: Any, **headers: str) -> Any:
    return await api.client.put(
        f"/api/v1/jobs/{job_id}/files/content/{name}",
        data=data,
        headers={**client_headers(), **headers},
    )
