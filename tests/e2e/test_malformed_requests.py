"""Requests aiohttp cannot parse answer in the API's JSON envelope too, from a real server
process (``orchestrator/api/protocol.py``: its hook is on aiohttp internals, this pins it)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from tests.e2e.conftest import CLIENT_TOKEN, Cluster
from tests.helpers import wait_for


async def _exchange(url: str, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client would send these) and read the answer to EOF."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
    return int(status_line.split()[1]), headers, body


def _error(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    assert headers["content-type"].startswith("application/json"), (headers, body)
    error: dict[str, Any] = orjson.loads(body)["error"]
    return error


AUTH = f"X-Client-Token: {CLIENT_TOKEN}\r\n".encode()
CLOSE = b"Connection: close\r\n"


async def test_unparsable_requests_answer_a_json_400(cluster: Cluster) -> None:
    orch = await cluster.orchestrator()
    cases = {
        "unknown method": b"PSOT /api/v1/jobs HTTP/1.1\r\nHost: x\r\n" + AUTH + b"\r\n",
        "header over 8 KB": b"GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\nX-Big: "
        + b"a" * 9000
        + b"\r\n\r\n",
        "no request line": b"nonsense\r\n\r\n",
        "bad version": b"GET / HTTP/9.x\r\nHost: x\r\n\r\n",
    }
    for name, raw in cases.items():
        status, headers, body = await _exchange(orch.url, raw)

        assert status == 400, (name, body)
        error = _error(headers, body)
        assert error["code"] == "BAD_REQUEST", (name, error)
        # what was wrong is named; the bytes it stopped at are not echoed back
        assert error["message"] and "b'" not in error["message"], (name, error)
        assert error["details"] == {}
        assert headers["x-request-id"], headers
    assert orch.alive()


async def test_unknown_path_and_method_answer_json_from_the_server_process(
    cluster: Cluster,
) -> None:
    orch = await cluster.orchestrator()

    status, headers, body = await _exchange(
        orch.url, b"GET /no/such/path HTTP/1.1\r\nHost: x\r\n" + AUTH + CLOSE + b"\r\n"
    )
    assert (status, _error(headers, body)["code"]) == (404, "NOT_FOUND")
    # the server keeps the orchestrator's own access log (its runner's settings reach it)
    await wait_for(lambda: "/no/such/path" in orch.log.read_text(), 10, "the access log line")

    status, headers, body = await _exchange(
        orch.url, b"DELETE /_public/status HTTP/1.1\r\nHost: x\r\n" + CLOSE + b"\r\n"
    )
    assert (status, _error(headers, body)["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert headers["allow"] == "GET, HEAD"
