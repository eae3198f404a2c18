"""A task queued while a poll of the same process is parked for it is that poll's: the other
processes hear no wake-up of it (``Dispatcher.will_serve``). With no poll parked here, they
hear it with the commit, as before."""

from __future__ import annotations

import asyncio
from typing import Any

from orchestrator.appkeys import DISPATCHER
from tests.api.conftest import Api, worker_headers
from tests.helpers import wait_for


async def other_process(api: Api) -> Any:
    """A subscriber to the wake channel, which the app knows listens (its HELLO)."""
    pubsub = api.store.redis.pubsub()
    await pubsub.subscribe(api.store.keys.wake_channel)
    confirmed = await pubsub.get_message(timeout=2.0)
    assert confirmed is not None and confirmed["type"] == "subscribe"
    api.store.audience.heard_other()
    return pubsub


async def heard(pubsub: Any) -> list[bytes]:
    """The wake-ups heard up to a PING's answer (Redis answers a subscriber in order)."""
    await pubsub.ping(b"probe")
    messages: list[bytes] = []
    while (message := await pubsub.get_message(timeout=2.0)) is not None:
        if message["type"] == "pong":
            return messages
        messages.append(message["data"])
    raise AssertionError("no PONG")


async def test_a_task_a_parked_poll_here_takes_wakes_no_other_process(api: Api) -> None:
    await api.register("w-here")
    pubsub = await other_process(api)
    dispatcher = api.app[DISPATCHER]
    poll = asyncio.create_task(
        api.client.get(
            "/_worker/workers/w-here/tasks/next",
            params={"timeout": "10", "max": "4"},
            headers=worker_headers(),
        )
    )
    await wait_for(lambda: dispatcher.waiting == 1, 5.0, what="the poll to park")

    job_id = await api.create()
    resp = await asyncio.wait_for(poll, 10)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    messages = await heard(pubsub)
    await pubsub.aclose()

    assert [task["job_id"] for task in body["tasks"]] == [job_id]
    assert messages == []


async def test_with_no_poll_parked_here_the_other_processes_hear_the_task(api: Api) -> None:
    pubsub = await other_process(api)

    await api.create()
    messages = await heard(pubsub)
    await pubsub.aclose()

    assert [m.decode().partition("|")[0] for m in messages] == ["greet"]
