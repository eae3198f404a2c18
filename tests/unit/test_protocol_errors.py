"""``JsonErrorsRunner`` (``orchestrator/api/protocol.py``) keeps aiohttp's plain answer when
its own cannot be made, and keeps serving when aiohttp's internals are not what it expects."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from orchestrator.api import protocol
from tests.helpers import free_port


async def _bad_request(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"PSOT / HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


async def _serve_and_ask(runner: web.AppRunner) -> bytes:
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        return await _bad_request(port)
    finally:
        await runner.cleanup()


async def test_the_answer_is_json() -> None:
    answer = await _serve_and_ask(protocol.JsonErrorsRunner(web.Application()))

    assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request")
    assert b'"code":"BAD_REQUEST"' in answer


async def test_a_failing_render_falls_back_to_the_plain_400(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(status: int, exc: BaseException | None) -> web.Response:
        raise RuntimeError("bug")

    monkeypatch.setattr(protocol, "protocol_error_answer", broken)

    answer = await _serve_and_ask(protocol.JsonErrorsRunner(web.Application()))

    assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request")
    assert b"text/plain" in answer


async def test_changed_aiohttp_internals_fall_back_to_its_plain_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def changed(*args: object, **kwargs: object) -> web.Server:
        raise TypeError("unexpected keyword argument")  # as a release might

    monkeypatch.setattr(protocol, "JsonErrorsServer", changed)

    answer = await _serve_and_ask(protocol.JsonErrorsRunner(web.Application()))

    assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request")
    assert b"text/plain" in answer
