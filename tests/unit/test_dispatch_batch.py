"""A long-poll that takes several tasks (``Dispatcher.next_tasks``): it waits for the first
only, fills up from every type it has, and never drops a task it was leased."""

from __future__ import annotations

import asyncio

from orchestrator.dispatch.waiters import Dispatcher, WorkerProfile
from tests.helpers import wait_for

BOTH = WorkerProfile("w-1", ("a", "b"))


class Queues:
    """Stands in for the store: payloads by task type, taken as a claim would take them."""

    def __init__(self) -> None:
        self.ready: dict[str, list[bytes]] = {"a": [], "b": []}
        self.claims: list[tuple[str, int]] = []
        self.failing: set[str] = set()

    async def claim(self, task_type: str, worker: WorkerProfile, count: int) -> list[bytes]:
        self.claims.append((task_type, count))
        if task_type in self.failing:
            raise ConnectionError("redis went away")
        queue = self.ready[task_type]
        taken, queue[:] = queue[:count], queue[count:]
        return taken


async def test_the_first_claims_fill_the_batch_from_every_type() -> None:
    q = Queues()
    q.ready = {"a": [b"a1", b"a2"], "b": [b"b1", b"b2", b"b3"]}
    dispatcher = Dispatcher(q.claim)

    assert await dispatcher.next_tasks(BOTH, 5, 4) == [b"a1", b"a2", b"b1", b"b2"]
    assert q.claims == [("a", 4), ("b", 2)]
    assert q.ready == {"a": [], "b": [b"b3"]}


async def test_a_parked_batch_poll_is_served_a_batch_then_fills_up_from_its_other_types() -> None:
    q = Queues()
    dispatcher = Dispatcher(q.claim)
    poll = asyncio.create_task(dispatcher.next_tasks(BOTH, 5, 3))
    await wait_for(lambda: dispatcher.waiting == 1, 2, "the poll parked")
    q.claims.clear()

    q.ready = {"a": [b"a1"], "b": [b"b1", b"b2", b"b3"]}
    dispatcher.wake("a")

    assert await asyncio.wait_for(poll, 2) == [b"a1", b"b1", b"b2"]
    assert q.claims == [("a", 3), ("b", 2)]  # "a" was just found short: not claimed again


async def test_a_failing_claim_does_not_lose_the_tasks_already_leased() -> None:
    q = Queues()
    q.ready = {"a": [b"a1"], "b": [b"b1"]}
    q.failing = {"b"}
    dispatcher = Dispatcher(q.claim)

    assert await dispatcher.next_tasks(BOTH, 5, 2) == [b"a1"]


async def test_a_single_poll_claims_one() -> None:
    q = Queues()
    q.ready = {"a": [b"a1", b"a2"], "b": []}
    dispatcher = Dispatcher(q.claim)

    assert await dispatcher.next_task(BOTH, 5) == b"a1"
    assert q.claims == [("a", 1)]
