"""Microseconds the middleware chain adds to a request, in process (no sockets, no Redis).

    PYTHONPATH=. python bench/middleware.py [--rounds 20000] [--repeat 5]

Takes the middlewares ``create_app`` installs and puts them in front of handlers that answer
at once, then times ``Application._handle`` (route resolution, the chain, the handler) on
mocked requests: once through that chain, once through an app without middlewares. The
difference is what the chain costs per request. The store is the embedded one (fakeredis);
the rate limits are set high, so a create spends tokens held locally, as a busy client does.
Times are CPU time of this process (best of ``--repeat`` runs), as the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from typing import Any
from unittest import mock

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from orchestrator import BlueprintRegistry, Settings, create_app
from orchestrator.appkeys import METRICS, REGISTRY, SETTINGS, STORE
from orchestrator.config import ClientToken
from orchestrator.storage.embedded import embedded_store

CLIENT, WORKER = "bench-client", "bench-worker"
CASES: dict[str, tuple[str, str, dict[str, str]]] = {
    "GET /api (a job read)": ("GET", "/api/v1/x/1", {"X-Client-Token": CLIENT}),
    "POST /api (a create)": (
        "POST",
        "/api/v1/x/1",
        {"X-Client-Token": CLIENT, "Content-Length": "20"},
    ),
    "GET /_worker (a poll)": ("GET", "/_worker/x/1", {"X-Worker-Token": WORKER}),
    "GET /_public": ("GET", "/_public/x/1", {}),
    "GET /api, 401": ("GET", "/api/v1/x/1", {"X-Client-Token": "wrong"}),
}


async def answer(request: web.Request) -> web.Response:
    return web.Response(body=b"{}", content_type="application/json")


def bench_app(middlewares: list[Any], model: web.Application) -> web.Application:
    app = web.Application(middlewares=middlewares)
    for key in (SETTINGS, METRICS, REGISTRY, STORE):
        app[key] = model[key]  # type: ignore[index]
    for prefix in ("/api/v1/x", "/_worker/x", "/_public/x"):
        app.router.add_get(prefix + "/{id}", answer)
        app.router.add_post(prefix + "/{id}", answer)
    app.freeze()
    return app


async def per_request(app: web.Application, case: tuple[str, str, dict[str, str]], n: int) -> float:
    method, path, headers = case
    transport = mock.Mock()
    transport.get_extra_info.return_value = ("127.0.0.1", 40000)
    # One request served n times: mocked requests are slow to make and their garbage would
    # be collected in the timed loop. Handling sets its match info and keys anew each time.
    request = make_mocked_request(method, path, headers=headers, app=app, transport=transport)
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        for _ in range(n):
            await app._handle(request)
    finally:
        gc.enable()
    return (time.process_time() - started) / n * 1e6


async def main(rounds: int, repeat: int) -> None:
    settings = Settings.from_flat(
        clients=(ClientToken("bench", CLIENT),),
        worker_token=WORKER,
        client_rate_per_s=1e9,
        client_burst=10**9,
        ip_rate_per_s=1e9,
        ip_burst=10**9,
    )
    real = create_app(settings, embedded_store("bench-mw"), BlueprintRegistry([]))
    chained = bench_app(list(real.middlewares), real)
    bare = bench_app([], real)
    print(f"{len(real.middlewares)} middlewares; µs per request, best of {repeat} × {rounds}")
    for name, case in CASES.items():
        await per_request(chained, case, 200)  # warm-up: caches, the rate limiter's tokens
        with_chain = min([await per_request(chained, case, rounds) for _ in range(repeat)])
        without = min([await per_request(bare, case, rounds) for _ in range(repeat)])
        print(
            f"  {name:24} chain {with_chain:6.1f} · bare {without:6.1f} · "
            f"middlewares {with_chain - without:5.1f}"
        )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=20000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    asyncio.run(main(args.rounds, args.repeat))
