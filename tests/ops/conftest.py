"""Fixtures for the operations tests: the API fixtures of ``tests/api``, plus an app served
with the production access logger and a log stream configured like ``orchestrator serve``."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from orchestrator import BlueprintRegistry, create_app
from orchestrator.api.access import AccessLogger
from orchestrator.config import Settings
from orchestrator.logs import configure_logging
from orchestrator.storage.redis_store import RedisStore
from tests.api.blueprints import ALL
from tests.api.conftest import api, make_api, make_settings, store_kind
from tests.conftest import delete_prefix

__all__ = ["api", "make_api", "store_kind"]  # fixtures shared with tests/api

ServeLogged = Callable[[Settings], Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def serve_logged(
    aiohttp_client: Any, aiohttp_server: Any, redis_url: str, prefix: str
) -> AsyncIterator[ServeLogged]:
    """Serves the app as ``orchestrator serve`` does, access log included."""
    clients: list[TestClient[Any, Any]] = []

    async def serve(settings: Settings) -> TestClient[Any, Any]:
        store = RedisStore(aioredis.Redis.from_url(redis_url), prefix)
        app = create_app(settings, store, BlueprintRegistry(ALL))
        # start_server's arguments reach the runner (a TestServer's own are dropped)
        server = await aiohttp_server(app, access_log_class=AccessLogger)
        client: TestClient[Any, Any] = await aiohttp_client(server)
        clients.append(client)
        return client

    yield serve
    for client in clients:
        await client.close()
    await delete_prefix(redis_url, prefix)


class LogStream:
    """What ``configure_logging`` wrote, as text."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def configure(self, **overrides: Any) -> Settings:
        settings = make_settings(**overrides)
        configure_logging(settings, self.buffer)
        return settings

    @property
    def text(self) -> str:
        return self.buffer.getvalue()


@pytest.fixture
def log_stream() -> Iterator[LogStream]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = LogStream()
    yield stream
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
