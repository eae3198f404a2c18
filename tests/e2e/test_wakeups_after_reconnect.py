"""Issue 7 §4: clients parked on a job hear its end promptly across a Redis restart.

"Ended" and "changed" messages published while the orchestrator's pub/sub connection is down
or resubscribing are lost for good, so the orchestrator must re-check every parked waiter
against the stored job once it is subscribed again.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from tests.e2e.conftest import Api, Cluster
from tests.helpers import RedisProcess, wait_for

WAITERS = 20
STREAMS = 5
OUTAGE_S = 3.0
"""How long Redis stays down: the fault injected, long enough for the pub/sub reconnect to be
backing off (the window in which ends were lost), not a synchronisation."""
LATE_S = 1.0


async def _status(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    try:
        async with http.get(f"{url}/_public/status") as r:
            return r.status, await r.json()
    except aiohttp.ClientError:
        return 0, {}


async def _wait(api: Api, job_id: str) -> float:
    """``GET ?wait=20``; when the terminal answer arrived (wall clock, like event times)."""
    async with api.session.get(
        f"{api.base}/api/v1/jobs/{job_id}", params={"wait": "20"}, headers=api.headers
    ) as r:
        assert r.status == 200, await r.text()
        body = await r.json()
    assert body["status"] == "cancelled", body
    return time.time()


async def _stream(api: Api, job_id: str) -> float:
    """Read the job's events until its terminal one; when that one arrived."""
    async with api.session.get(f"{api.base}/api/v1/jobs/{job_id}/events", headers=api.headers) as r:
        assert r.status == 200, await r.text()
        async for raw in r.content:
            line = raw.decode().strip()
            if line.startswith("data:") and orjson.loads(line[5:])["type"] == "job_cancelled":
                return time.time()
    raise AssertionError(f"the stream of {job_id} ended without job_cancelled")


async def test_waiters_hear_job_ends_promptly_after_a_redis_restart(
    tmp_path: Path, prefix: str, http: aiohttp.ClientSession
) -> None:
    data = tmp_path / "redis"
    data.mkdir()
    server = RedisProcess(appendonly=True, dir=data).start()
    cluster = Cluster(server.url, prefix, tmp_path, tmp_path / "marks")
    tasks: dict[str, asyncio.Task[float]] = {}
    try:
        orch = await cluster.orchestrator()
        api = Api(http, orch)
        # No worker runs: every job waits until the test cancels it.
        jobs = [await api.create("echo", {"n": n}) for n in range(WAITERS + STREAMS)]
        for job_id in jobs[:WAITERS]:
            tasks[job_id] = asyncio.create_task(_wait(api, job_id))
        for job_id in jobs[WAITERS:]:
            tasks[job_id] = asyncio.create_task(_stream(api, job_id))

        async def all_parked() -> bool:
            code, body = await _status(http, orch.url)
            return code == 200 and body.get("parked_job_waits") == WAITERS + STREAMS

        await wait_for(all_parked, 10, "every client to be parked")

        server.kill()
        await wait_for(
            lambda: _is(http, orch.url, 503), 10, "the orchestrator to notice the outage"
        )
        await asyncio.sleep(OUTAGE_S)  # the outage itself (see OUTAGE_S)
        server.start()
        await wait_for(lambda: _is(http, orch.url, 200), 20, "storage to be reachable again")

        # End the jobs as soon as storage is back: some of the "ended" messages go out while
        # the pub/sub connection is still reconnecting.
        for job_id in jobs:
            assert (await api.cancel(job_id))["status"] == "cancellation_request_accepted"
        ended_at = {}
        for job_id in jobs:
            async with http.get(
                f"{orch.url}/api/v1/jobs/{job_id}/history", headers=api.headers
            ) as r:
                history = await r.json()
            assert history[-1]["type"] == "job_cancelled"
            ended_at[job_id] = history[-1]["at"]

        # Far less than the clients' 20 s wait, far more than the 1 s allowed.
        done, pending = await asyncio.wait(tasks.values(), timeout=8)
        late = {
            job_id: round(task.result() - ended_at[job_id], 3)
            for job_id, task in tasks.items()
            if task in done and task.result() - ended_at[job_id] > LATE_S
        }
        assert not pending and not late, (
            f"{len(pending)} of {len(tasks)} clients not answered 8 s after their job ended; "
            f"late answers (s): {late}"
        )
        lateness = sorted(tasks[j].result() - ended_at[j] for j in jobs)
        print(f"lateness after the restart: max {lateness[-1]:.3f} s")
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        cluster.stop_all()
        server.stop()


async def _is(http: aiohttp.ClientSession, url: str, status: int) -> bool:
    return (await _status(http, url))[0] == status
