"""SPEC §3: a Redis restart (with persistence on) loses no job."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.e2e.conftest import Api, Cluster
from tests.helpers import RedisProcess, wait_for


async def _status(http: aiohttp.ClientSession, url: str) -> int:
    try:
        async with http.get(f"{url}/_public/status") as r:
            return r.status
    except aiohttp.ClientError:
        return 0


async def test_jobs_survive_a_redis_crash_and_restart(
    tmp_path: Path, prefix: str, http: aiohttp.ClientSession
) -> None:
    data = tmp_path / "redis"
    data.mkdir()
    server = RedisProcess(appendonly=True, dir=data).start()
    cluster = Cluster(server.url, prefix, tmp_path, tmp_path / "marks")
    try:
        orch = await cluster.orchestrator()
        api = Api(http, orch)
        waiting = [await api.create("echo", {"n": n}) for n in range(5)]  # no worker yet

        server.kill()  # SIGKILL: no shutdown save, only the append-only file
        await wait_for(lambda: _status(http, orch.url), 10, "status to answer")
        assert await _status(http, orch.url) == 503
        server.start()
        await wait_for(
            lambda: _is(http, orch.url, 200), 20, "the orchestrator to reconnect to Redis"
        )

        cluster.worker(orch, "w-after-crash")
        for n, job_id in enumerate(waiting):
            job = await api.wait_status(job_id, "finished")
            assert job["result"]["echo"] == {"n": n}
        later = await api.create("echo", {"n": 99})
        assert (await api.wait_status(later, "finished"))["result"]["echo"] == {"n": 99}
    finally:
        cluster.stop_all()
        server.stop()


async def _is(http: aiohttp.ClientSession, url: str, status: int) -> bool:
    return await _status(http, url) == status
