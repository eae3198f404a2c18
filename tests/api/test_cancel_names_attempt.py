"""Every ``cancel_task`` names the attempt it stops, over the WebSocket and in the heartbeat.

Without it, the late cancel of an attempt that timed out (collected by a heartbeat while the
worker's WebSocket was down) stopped the task's next attempt when that one ran on the same
worker.
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint, RetryPolicy
from tests.api.conftest import Api, MakeApi, worker_headers
from tests.helpers import wait_for

slow = Blueprint("slow", api_version="v1", api_endpoint="slow")


@slow.handler(start=True)
async def begin(actions: Actions) -> None:
    again = RetryPolicy(max_attempts=2, initial_interval_s=0.05, jitter=0)
    actions.dispatch_task(
        "slow", {}, transitions={"success": "done"}, timeout=0.3, retry_policy=again
    )


@slow.handler(end=True)
async def done() -> dict[str, Any]:
    return {}


async def _cancelled_at_heartbeat(api: Api, worker_id: str) -> list[dict[str, Any]]:
    beat = await api.heartbeat(worker_id)
    assert beat.status == 200, await beat.text()
    return list((await beat.json())["cancelled_tasks"])


async def test_each_cancel_names_its_attempt(make_api: MakeApi) -> None:
    api = await make_api(blueprints=[slow])
    job_id = await api.create({}, endpoint="v1/slow")
    await api.register("w-slow", ["slow"])
    first = await api.take("w-slow")
    assert first["attempt"] == 1
    ws = await api.client.ws_connect("/_worker/ws/w-slow", headers=worker_headers())
    try:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        channel = api.store.keys.command_channel("w-slow")

        async def subscribed() -> bool:
            counts = dict(await api.store.redis.pubsub_numsub(channel))
            return bool(counts.get(channel.encode()))

        await wait_for(subscribed, what="the socket's command channel to be subscribed")

        # Attempt 1 runs past its timeout: its cancel names attempt 1.
        timed_out = await ws.receive_json(timeout=5)
        expected = {"type": "cancel_task", "job_id": job_id, "task_id": first["task_id"]}
        assert timed_out == expected | {"attempt": 1}
        # The same cancel waits for the heartbeat too (for a worker whose socket is down).
        assert await _cancelled_at_heartbeat(api, "w-slow") == [expected | {"attempt": 1}]

        # Attempt 2 comes to the same worker; cancelling the job names attempt 2.
        second = await api.take("w-slow", timeout=3)
        assert (second["task_id"], second["attempt"]) == (first["task_id"], 2)
        assert (await api.cancel(job_id)).status == 200
        assert await ws.receive_json(timeout=5) == expected | {"attempt": 2}
        assert await _cancelled_at_heartbeat(api, "w-slow") == [expected | {"attempt": 2}]
    finally:
        await ws.close()
