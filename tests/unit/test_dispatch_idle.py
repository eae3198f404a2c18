"""Long-polls of an idle queue park without a claim each once one claim found it empty; a task
queued in between, or while wake-ups were lost, still reaches them at once."""

from __future__ import annotations

import asyncio

from orchestrator.dispatch.claim_gate import ClaimGate
from orchestrator.dispatch.waiters import Dispatcher, WorkerProfile
from tests.helpers import wait_for


def worker(i: int) -> WorkerProfile:
    return WorkerProfile(f"w-{i}", ("render",))


class Store:
    """Ready payloads by task type; claims go through a ``ClaimGate`` as ``leases.claim``'s do."""

    def __init__(self) -> None:
        self.ready: dict[str, list[bytes]] = {"render": []}
        self.sent = 0
        self.gate = ClaimGate()

    async def _pop(self, task_type: str, count: int) -> list[bytes]:
        self.sent += 1
        queue = self.ready[task_type]
        taken, queue[:] = queue[:count], queue[count:]
        return taken

    async def claim(self, task_type: str, _worker: WorkerProfile, count: int) -> list[bytes]:
        found = await self.gate.claim(
            task_type,
            lambda: self._pop(task_type, count),
            lambda got: len(got) < count,
            woken_by=task_type,
        )
        return found or []


async def test_polls_coming_one_by_one_to_an_idle_queue_cost_one_claim() -> None:
    store = Store()
    dispatcher = Dispatcher(store.claim, store.gate)
    polls = []
    for i in range(50):
        polls.append(asyncio.create_task(dispatcher.next_task(worker(i), 30)))
        await wait_for(lambda n=i + 1: dispatcher.waiting == n, 2, f"poll {i} parked")

    assert store.sent == 1
    store.ready["render"].append(b"the task")
    dispatcher.wake("render")
    done, _ = await asyncio.wait(polls, timeout=2, return_when=asyncio.FIRST_COMPLETED)
    assert [p.result() for p in done] == [b"the task"]
    dispatcher.close()
    await asyncio.gather(*polls)


async def test_a_task_queued_before_a_poll_came_reaches_it_with_its_wake_up() -> None:
    store = Store()
    dispatcher = Dispatcher(store.claim, store.gate)
    first = asyncio.create_task(dispatcher.next_task(worker(1), 30))
    await wait_for(lambda: dispatcher.waiting == 1, 2, "the first poll parked")
    # queued by another process: its wake-up is still on its way over the bus
    store.ready["render"].append(b"the task")
    second = asyncio.create_task(dispatcher.next_task(worker(2), 30))
    await wait_for(lambda: dispatcher.waiting == 2, 2, "the second poll parked")
    assert store.sent == 1  # parked on the first claim's "empty"

    dispatcher.wake("render")

    done, _ = await asyncio.wait({first, second}, timeout=2, return_when=asyncio.FIRST_COMPLETED)
    assert [p.result() for p in done] == [b"the task"]
    dispatcher.close()
    await asyncio.gather(first, second)


async def test_after_lost_wake_ups_a_new_poll_claims_again() -> None:
    store = Store()
    dispatcher = Dispatcher(store.claim, store.gate)
    assert await dispatcher.next_task(worker(1), 0.01) is None
    store.ready["render"].append(b"queued while the bus was away")

    dispatcher.wake_all()  # the bus is back: nobody parked, but the next poll must look

    assert await asyncio.wait_for(dispatcher.next_task(worker(2), 30), 2) == (
        b"queued while the bus was away"
    )


async def test_a_poll_s_timeout_counts_from_when_it_began_not_from_when_it_parked() -> None:
    store = Store()
    dispatcher = Dispatcher(store.claim, store.gate)
    loop = asyncio.get_running_loop()

    # came 30 s ago (it waited in line that long): its 30 s are over once its claim is back
    poll = dispatcher.next_tasks(worker(1), 30, 1, since=loop.time() - 30)

    assert await asyncio.wait_for(poll, 2) == []
    assert store.sent == 1


async def test_parked_polls_are_counted_once_whatever_their_skills() -> None:
    store = Store()
    store.ready["paint"] = []
    dispatcher = Dispatcher(store.claim, store.gate)
    both = WorkerProfile("w-both", ("render", "paint"))
    polls = [asyncio.create_task(dispatcher.next_task(p, 30)) for p in (both, worker(2))]
    await wait_for(lambda: dispatcher.waiting == 2, 2, "both polls parked")

    store.ready["paint"].append(b"paint task")
    dispatcher.wake("paint")

    assert await asyncio.wait_for(polls[0], 2) == b"paint task"
    assert dispatcher.waiting == 1
    dispatcher.close()
    await polls[1]
    assert dispatcher.waiting == 0
