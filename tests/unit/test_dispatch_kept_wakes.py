"""A task queued while a poll is parked here is left to that poll, the other processes not
told (``Dispatcher.will_serve``); whenever no claim here shows it taken, the wake-up is
published after all, so it is late at worst, never lost."""

from __future__ import annotations

import asyncio

from orchestrator.dispatch.waiters import Dispatcher, WorkerProfile
from tests.helpers import wait_for

WORKER = WorkerProfile("w-1", ("a",))


class Queues:
    """Stands in for the store: payloads by task type, taken as a claim would take them, and
    the wake-ups published to the other processes."""

    def __init__(self) -> None:
        self.ready: list[bytes] = []
        self.published: list[str] = []
        self.failing = False

    async def claim(self, task_type: str, worker: WorkerProfile, count: int) -> list[bytes]:
        if self.failing:
            raise ConnectionError("redis went away")
        taken, self.ready[:] = self.ready[:count], self.ready[count:]
        return taken

    async def publish(self, queue: str) -> None:
        self.published.append(queue)


async def parked(dispatcher: Dispatcher, want: int, wait_s: float = 5) -> asyncio.Task[list[bytes]]:
    waiting = dispatcher.waiting
    poll = asyncio.create_task(dispatcher.next_tasks(WORKER, wait_s, want))
    # the stand-in's claims never suspend: listed, it is past its first claims, parked
    await wait_for(lambda: dispatcher.waiting == waiting + 1, 5.0, what="the poll to park")
    return poll


async def queued(q: Queues, dispatcher: Dispatcher, task: bytes) -> bool:
    """A commit queueing ``task``: asks first, wakes once stored. Returns what it asked."""
    kept = dispatcher.will_serve("a")
    q.ready.append(task)
    dispatcher.wake("a")
    return kept


async def test_a_poll_that_takes_the_task_leaves_the_others_untold() -> None:
    q = Queues()
    dispatcher = Dispatcher(q.claim, publish=q.publish)
    poll = await parked(dispatcher, want=4)

    assert await queued(q, dispatcher, b"t1") is True
    assert await asyncio.wait_for(poll, 5) == [b"t1"]
    assert q.published == []


async def test_a_task_no_claim_here_shows_taken_is_published() -> None:
    q = Queues()
    dispatcher = Dispatcher(q.claim, publish=q.publish)
    poll = await parked(dispatcher, want=1)
    q.ready = [b"older"]  # queued by another process, its wake-up not come yet

    assert await queued(q, dispatcher, b"t1") is True
    assert await asyncio.wait_for(poll, 5) == [b"older"]  # a full batch: more may be left
    await wait_for(lambda: q.published == ["a"], 5.0, what="the wake-up published")
    assert q.ready == [b"t1"]


async def test_a_poll_gone_before_the_wake_up_leaves_it_to_the_others() -> None:
    q = Queues()
    dispatcher = Dispatcher(q.claim, publish=q.publish)
    poll = await parked(dispatcher, want=4, wait_s=0.2)
    assert dispatcher.will_serve("a") is True
    assert await asyncio.wait_for(poll, 5) == []  # its wait ran out meanwhile

    q.ready.append(b"t1")
    dispatcher.wake("a")
    await wait_for(lambda: q.published == ["a"], 5.0, what="the wake-up published")


async def test_a_failed_claim_leaves_it_to_the_others() -> None:
    q = Queues()
    dispatcher = Dispatcher(q.claim, publish=q.publish)
    poll = await parked(dispatcher, want=4)
    q.failing = True

    assert await queued(q, dispatcher, b"t1") is True
    await wait_for(lambda: q.published == ["a"], 5.0, what="the wake-up published")
    poll.cancel()


async def test_only_a_free_poll_for_a_queue_without_requirements_keeps_it() -> None:
    q = Queues()
    dispatcher = Dispatcher(q.claim, publish=q.publish)
    assert dispatcher.will_serve("a") is False  # nobody parked
    poll = await parked(dispatcher, want=4)
    assert dispatcher.will_serve("a#gpu") is False  # other processes may not know the route
    assert dispatcher.will_serve("b") is False
    assert Dispatcher(q.claim).will_serve("a") is False  # it cannot publish: never asked
    poll.cancel()


async def test_a_wake_up_heard_from_another_process_is_not_the_kept_one() -> None:
    q = Queues()
    dispatcher = Dispatcher(q.claim, publish=q.publish)
    poll = await parked(dispatcher, want=1)
    assert dispatcher.will_serve("a") is True
    q.ready.append(b"theirs")
    dispatcher.wake("a", heard=True)  # another process's task: the poll takes it
    assert await asyncio.wait_for(poll, 5) == [b"theirs"]

    q.ready.append(b"t1")  # the kept task's commit lands: no poll is parked any more
    dispatcher.wake("a")
    await wait_for(lambda: q.published == ["a"], 5.0, what="the wake-up published")
