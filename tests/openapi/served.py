"""The app the fuzz run talks to, as a process of its own:
``python -m tests.openapi.served PORT REDIS_URL PREFIX SETTINGS_JSON STATUS_LOG``.

Why not a thread of the test process: schemathesis draws some mutations from the global
``random`` module, and the app (aiohttp's connector, retry jitter) draws from it too. Sharing
one process, the app's background work would shift the fuzzer's cases from run to run and
trip hypothesis' "random inside strategies" alarm: the run would not be deterministic.

Every response the server prepares is appended to STATUS_LOG as ``METHOD PATH STATUS``, so
the test can check that none was a 500. SIGTERM stops it cleanly.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import TextIO

import redis.asyncio as aioredis
from aiohttp import web

from orchestrator import BlueprintRegistry, create_app
from orchestrator.storage.redis_store import RedisStore
from tests.api.conftest import make_settings
from tests.openapi.blueprints import ALL


async def serve(port: int, redis_url: str, prefix: str, overrides: str, log: TextIO) -> None:
    settings = make_settings(**json.loads(overrides))
    store = RedisStore(aioredis.Redis.from_url(redis_url), prefix)
    app = create_app(settings, store, BlueprintRegistry(ALL))

    async def record(request: web.Request, response: web.StreamResponse) -> None:
        log.write(f"{request.method} {request.path!r} {response.status}\n")

    app.on_response_prepare.append(record)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await stop.wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    port, redis_url, prefix, overrides, status_log = sys.argv[1:6]
    with open(status_log, "a", buffering=1) as log:  # a line per response, flushed as written
        asyncio.run(serve(int(port), redis_url, prefix, overrides, log))
