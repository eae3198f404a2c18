"""Inbox benchmark: how long a page of ``GET /api/v1/human-tasks`` takes with 100 and with
100,000 waiting human steps (a private redis-server; the shared one is never touched).

    .venv/bin/python -m bench.inbox                 # 100 and 100,000 steps
    .venv/bin/python -m bench.inbox --steps 100 1000000

The steps are written as the commit writes them (the job hash and its inbox index entries,
``human/index.py``), in pipelines, so that filling Redis does not take the run. Each page is
read through the real app over HTTP (in this process) and timed; prints the figures, asserts
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from orchestrator import BlueprintRegistry, Settings, create_app
from orchestrator.config import ClientToken
from orchestrator.engine import machine
from orchestrator.engine.actions import Actions, AwaitHuman
from orchestrator.engine.model import Job, JobStatus
from orchestrator.human import index
from orchestrator.storage import codec
from orchestrator.storage.redis_store import RedisStore
from tests.helpers import RedisProcess

ROLES = ("compliance", "fraud", "agent")
BATCH = 2000
READS = 50


def step(i: int, now: float) -> Job:
    job = Job(
        id=f"bench-{i:07d}",
        blueprint="alert",
        blueprint_version="v",
        client="bench",
        status=JobStatus.PENDING,
        state="review",
        created_at=now,
        updated_at=now,
        initial_data={"alert_id": i},
    )
    actions = Actions()
    due = None if i % 4 == 0 else 3600 + i % 1000
    actions.await_human(
        {"acknowledge": "done", "dismiss": "done"},
        role=ROLES[i % 3],
        title=f"Alert {i}",
        due_in=due,
        summary={"alert_id": i},
    )
    started, _ = machine.start(job, now)
    assert isinstance(actions.chosen, AwaitHuman)
    waiting, _ = machine.enter(started, frozenset({"review", "done"}), actions.chosen, now)
    return waiting.evolve(rev=1)


async def fill(store: RedisStore, start: int, stop: int) -> None:
    now = time.time()
    redis: Any = store.redis
    for low in range(start, stop, BATCH):
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(low, min(stop, low + BATCH)):
                before = step(i, now).evolve(status=JobStatus.PENDING, human=None, rev=0)
                job, change = index.change(
                    store.keys.prefix, store.keys.timers, before, step(i, now)
                )
                assert change is not None
                change.before(pipe)
                pipe.hset(store.keys.job(job.id), mapping=codec.encode(job))
            await pipe.execute()


async def timed(client: TestClient[Any, Any], query: str) -> tuple[float, int]:
    samples, items = [], 0
    for _ in range(READS):
        started = time.perf_counter()
        r = await client.get(f"/api/v1/human-tasks?{query}", headers={"X-Client-Token": "b"})
        body = await r.json()
        samples.append(time.perf_counter() - started)
        assert r.status == 200, body
        items = len(body["items"])
    return statistics.median(samples) * 1000, items


async def main(sizes: list[int]) -> None:
    server = RedisProcess().start()
    try:
        redis = aioredis.Redis.from_url(server.url)
        store = RedisStore(redis, "bench")
        settings = Settings.from_flat(clients=(ClientToken("bench", "b"),), worker_token="w")
        app = create_app(settings, store, BlueprintRegistry())
        async with TestClient(TestServer(app)) as client:
            filled = 0
            for size in sorted(sizes):
                began = time.perf_counter()
                await fill(store, filled, size)
                filled = size
                print(f"{size:>9,} waiting steps (filled in {time.perf_counter() - began:.1f}s)")
                for query in ("limit=50", "role=fraud&limit=50", "overdue=true&limit=50"):
                    ms, items = await timed(client, query)
                    line = f"GET /api/v1/human-tasks?{query:<24} median {ms:6.2f} ms"
                    print(f"    {line} ({items} items)")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 100_000])
    asyncio.run(main(parser.parse_args().steps))
