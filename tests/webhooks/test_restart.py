"""A delivery owed survives the orchestrator: a stopped app, and a process killed with SIGKILL."""

from __future__ import annotations

import signal

import aiohttp
import redis.asyncio as aioredis

from orchestrator.webhooks.outbox import Entry
from tests.api.conftest import Api
from tests.e2e.conftest import CLIENT_TOKEN, Cluster
from tests.helpers import wait_for
from tests.webhooks.conftest import SECRET, MakeApp, Receiver, outbox_entries


async def failed_attempts(api: Api) -> bool:
    """The outbox holds one entry that has failed at least once."""
    entries = await outbox_entries(api)
    return len(entries) == 1 and entries[0][0] is not None and entries[0][0].attempt >= 2


async def test_a_delivery_owed_when_the_app_stops_is_sent_by_the_next_app(
    make_app: MakeApp,
) -> None:
    receiver = Receiver()  # its port is taken, nothing listens yet: connection refused
    first = await make_app()
    job_id = await first.create({"name": ""}, webhook_url=receiver.url)
    await wait_for(lambda: failed_attempts(first), what="a failed attempt")

    await first.client.close()  # the app stops: its loops and sessions end

    second = await make_app()
    [(entry, _)] = await outbox_entries(second)
    assert entry is not None and entry.job_id == job_id
    await receiver.start()
    try:
        [delivery] = await receiver.wait_delivered(1)
    finally:
        await receiver.stop()
    assert delivery.verified
    assert delivery.webhook_id == f"{job_id}:{entry.event_id}"
    assert delivery.body["event"] == "job.failed"
    await wait_for(lambda: _empty(second), what="the outbox to empty")


async def test_a_delivery_survives_a_sigkilled_orchestrator_process(
    cluster: Cluster, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    receiver.default = 500
    env = {
        "ORCH_WEBHOOK_SECRET": SECRET,
        "ORCH_WEBHOOK_BACKOFF_S": "0.1",
        "ORCH_WEBHOOK_BACKOFF_MAX_S": "0.3",
        "ORCH_WEBHOOK_TIMEOUT_S": "1",
        "ORCH_WEBHOOK_MAX_ATTEMPTS": "1000",
    }
    doomed = await cluster.orchestrator(**env)
    headers = {"X-Client-Token": CLIENT_TOKEN}
    body = {"initial_data": {"n": 1}, "webhook_url": receiver.url}
    async with http.post(f"{doomed.url}/api/v1/echo", json=body, headers=headers) as r:
        assert r.status == 202, await r.text()
        job_id = (await r.json())["job_id"]
    async with http.post(f"{doomed.url}/api/v1/jobs/{job_id}/cancel", headers=headers) as r:
        assert r.status == 200, await r.text()
    await receiver.wait_requests(2)  # the process is retrying: the entry is in the outbox

    doomed.proc.send_signal(signal.SIGKILL)
    doomed.proc.wait()
    receiver.default = 200
    failed = len(receiver.requests)
    assert await outbox(cluster) != [], "the outbox lost the entry"

    await cluster.orchestrator(**env)

    delivered = await receiver.wait_delivered(1, timeout=20)
    assert delivered[0].verified
    assert delivered[0].body["event"] == "job.cancelled"
    assert delivered[0].body["job_id"] == job_id
    assert {d.webhook_id for d in receiver.requests} == {delivered[0].webhook_id}
    assert len(receiver.requests) > failed


async def outbox(cluster: Cluster) -> list[Entry | None]:
    client = aioredis.Redis.from_url(cluster.redis_url)
    try:
        members = await client.zrange(f"{cluster.prefix}:{{webhooks}}:outbox", 0, -1)
    finally:
        await client.aclose()
    return [Entry.parse(m.decode()) for m in members]


async def _empty(api: Api) -> bool:
    return await outbox_entries(api) == []
