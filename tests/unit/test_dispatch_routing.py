"""The dispatcher wakes only the long-polls that meet a queued task's requirements, and loses
no wake-up that comes while a claim is under way."""

from __future__ import annotations

import asyncio

from orchestrator.dispatch.waiters import Dispatcher, WorkerProfile
from orchestrator.engine.requires import met_by, split
from tests.helpers import wait_for

GPU = WorkerProfile("gpu-1", ("render",), frozenset({"gpu"}))
CPU = WorkerProfile("cpu-1", ("render",))


class Queues:
    """Stands in for the store: queued payloads by queue, taken as a claim would take them."""

    def __init__(self) -> None:
        self.ready: dict[str, list[bytes]] = {}
        self.claims: list[str] = []
        self.gate: asyncio.Event | None = None

    def put(self, queue: str, payload: bytes) -> None:
        self.ready.setdefault(queue, []).append(payload)

    async def claim(self, task_type: str, worker: WorkerProfile, count: int) -> list[bytes]:
        self.claims.append(worker.worker_id)
        found: list[bytes] = []
        for queue, payloads in self.ready.items():
            t, encoding = split(queue)
            meets = t == task_type and met_by(encoding, worker.tags, worker.labels)
            while meets and payloads and len(found) < count:
                found.append(payloads.pop(0))
        if self.gate is not None:  # the answer is on its way back
            gate, self.gate = self.gate, None
            await gate.wait()
        return found


async def test_a_wake_up_serves_only_waiters_that_meet_the_requirements() -> None:
    q = Queues()
    dispatcher = Dispatcher(q.claim)
    cpu = asyncio.create_task(dispatcher.next_task(CPU, 5))
    gpu = asyncio.create_task(dispatcher.next_task(GPU, 5))
    await wait_for(lambda: dispatcher.waiting == 2, 2, "both polls parked")
    q.claims.clear()

    q.put("render#+gpu", b"gpu task")
    dispatcher.wake("render#+gpu")

    assert await gpu == b"gpu task"
    assert q.claims == ["gpu-1"]  # the cpu worker's poll was not even tried
    assert not cpu.done()
    q.put("render", b"plain task")
    dispatcher.wake("render")
    assert await cpu == b"plain task"


async def test_a_wake_up_during_the_first_claims_is_not_lost() -> None:
    q = Queues()
    q.gate = gate = asyncio.Event()
    dispatcher = Dispatcher(q.claim)
    poll = asyncio.create_task(dispatcher.next_task(GPU, 5))
    await wait_for(lambda: q.claims == ["gpu-1"], 2, "the first claim under way")

    # queued and woken after the claim looked at the queues, before the poll parks
    q.put("render#+gpu", b"late task")
    dispatcher.wake("render#+gpu")
    gate.set()

    assert await asyncio.wait_for(poll, 2) == b"late task"
    assert len(q.claims) == 2
