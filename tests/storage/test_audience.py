"""Ends and wake-ups are published only when a process other than this one listens: alone on
its Redis, a process serves its own waiters in memory (``storage/audience.py``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from orchestrator.engine import machine
from orchestrator.engine.effects import Effects
from orchestrator.engine.model import JobStatus
from orchestrator.storage import end_message
from orchestrator.storage.redis_store import RedisStore
from tests.builders import dispatch, leased, waiting_job

TYPE = "echo"


def sent_commands(store: RedisStore) -> list[str]:
    """Names of the commands the store sends from now on in batches: its ``Wire`` round trips
    (a commit's first) and its redis-py pipelines (the rest)."""
    sent: list[str] = []
    pipeline, run = store.redis.pipeline, store.wire.run

    def recording(*args: Any, **kwargs: Any) -> Any:
        pipe = pipeline(*args, **kwargs)
        execute = pipe.execute

        async def recorded(raise_on_error: bool = True) -> Any:
            sent.extend(str(cmd[0]) for cmd, _ in pipe.command_stack)
            return await execute(raise_on_error)

        pipe.execute = recorded
        return pipe

    async def recorded_run(commands: Sequence[Sequence[Any]]) -> list[Any]:
        sent.extend(str(args[0]) for args in commands)
        return await run(commands)

    store.redis.pipeline = recording
    store.wire.run = recorded_run  # type: ignore[method-assign]
    return sent


async def create_and_cancel(store: RedisStore, job_id: str) -> None:
    job, effects = waiting_job(job_id, now=time.time(), action=dispatch(TYPE))
    assert await store.commit(job.evolve(rev=1), effects, wake_origin="me") is True
    done, effects = machine.cancel(job.evolve(rev=1), time.time())
    assert await store.commit(done.evolve(rev=2), effects, ttl_s=60) is True


async def test_a_process_alone_publishes_nothing_and_hears_its_ends(store: RedisStore) -> None:
    if store.cluster:  # a NUMSUB counts one node's subscribers: Cluster publishes all
        assert store.audience.others(store.keys.ended_channel)
        return
    heard: list[bytes] = []
    store.audience.listen(store.keys.ended_channel, heard.append)
    store.audience.listen(store.keys.wake_channel, lambda _: None)
    sent = sent_commands(store)

    await create_and_cancel(store, "j1")

    assert "EVALSHA" in sent  # the commits were seen
    assert "PUBLISH" not in sent
    assert heard == [b"j1"]


async def subscribed(store: RedisStore) -> Any:
    pubsub = store.redis.pubsub()
    await pubsub.subscribe(store.keys.ended_channel, store.keys.wake_channel)
    for _ in range(2):
        confirmed = await pubsub.get_message(timeout=2.0)
        assert confirmed is not None and confirmed["type"] == "subscribe"
    return pubsub


async def test_another_listener_hears_ends_and_wake_ups(store: RedisStore) -> None:
    heard: list[bytes] = []
    own = await subscribed(store)  # this process's bus
    store.audience.listen(store.keys.ended_channel, heard.append)
    store.audience.listen(store.keys.wake_channel, lambda _: None)
    pubsub = await subscribed(store)  # another process's

    await create_and_cancel(store, "j1")

    messages = []
    while (message := await pubsub.get_message(timeout=2.0)) is not None:
        messages.append((message["channel"].decode(), message["data"]))
        if len(messages) == 2:
            break
    await pubsub.aclose()
    await own.aclose()
    assert messages[0] == (store.keys.wake_channel, f"{TYPE}|me".encode())
    channel, message = messages[1]
    job_id, packed = end_message.split(message)
    assert (channel, job_id) == (store.keys.ended_channel, "j1")
    assert end_message.unpack(packed) == await store.load("j1")  # the end carries the job
    assert heard == []  # the local waiters hear it through their own subscription


async def ends_heard(pubsub: Any, store: RedisStore, expect: int = 0) -> list[bytes]:
    """The end messages ``pubsub`` heard, up to a PING sent after them: Redis answers a
    subscriber in order, so the PONG comes after every message published on its node before
    it. On Cluster a message published on another node crosses the cluster bus and may come
    after the PONG: there the reading goes on until ``expect`` ends came (or 5 s)."""
    await pubsub.ping(b"probe")
    ends: list[bytes] = []
    ponged = False
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        message = await pubsub.get_message(timeout=0.1)
        if message is not None and message["type"] == "pong":
            ponged = True
        elif message is not None and message["channel"].decode() == store.keys.ended_channel:
            ends.append(message["data"])
        if ponged and (not store.cluster or len(ends) >= expect):
            return ends
    assert ponged, "no PONG"
    return ends


async def test_an_end_whose_write_lost_is_not_told(store: RedisStore) -> None:
    pubsub = await subscribed(store)  # another process's
    job, effects = waiting_job("j1", now=time.time(), action=dispatch(TYPE))
    assert await store.commit(job.evolve(rev=1), effects, wake_origin="me") is True
    done, effects = machine.cancel(job.evolve(rev=1), time.time())

    # rev 3 expects rev 2 stored: another writer got there first, in this picture
    assert await store.commit(done.evolve(rev=3), effects, ttl_s=60) is False
    lost = await ends_heard(pubsub, store)
    assert await store.commit(done.evolve(rev=2), effects, ttl_s=60) is True
    won = await ends_heard(pubsub, store, expect=1)
    await pubsub.aclose()

    assert lost == []  # it would carry a job that was never stored
    assert [end_message.split(m)[0] for m in won] == ["j1"]


async def test_an_end_whose_fields_hold_a_nul_is_told_by_its_bare_id(store: RedisStore) -> None:
    pubsub = await subscribed(store)
    job, _ = waiting_job("j1", now=time.time(), action=dispatch(TYPE))
    failed = leased(job, worker="w\x00nul").evolve(rev=1, status=JobStatus.FAILED)

    assert await store.commit(failed, Effects(), ttl_s=60) is True
    heard = await ends_heard(pubsub, store, expect=1)
    await pubsub.aclose()

    assert heard == [b"j1"]  # the waiters read the job
    stored = await store.load("j1")
    assert stored is not None and stored.task is not None and stored.task.worker == "w\x00nul"
