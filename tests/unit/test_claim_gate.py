"""The claim gate: a burst of claims of one queue sends a few to Redis, and loses no task."""

from __future__ import annotations

import asyncio

from orchestrator.dispatch.claim_gate import ClaimGate


class FakeQueue:
    """A queue whose claims each take until ``release`` is set, counting those sent."""

    def __init__(self, tasks: list[str]) -> None:
        self.tasks = tasks
        self.sent = 0
        self.release = asyncio.Event()

    async def claim(self) -> str | None:
        self.sent += 1
        await self.release.wait()
        return self.tasks.pop(0) if self.tasks else None


async def test_a_burst_on_an_empty_queue_sends_a_few_claims() -> None:
    gate, queue = ClaimGate(width=2), FakeQueue([])
    polls = [asyncio.create_task(gate.claim("q", queue.claim)) for _ in range(100)]
    await asyncio.sleep(0)

    queue.release.set()

    assert await asyncio.gather(*polls) == [None] * 100
    assert queue.sent <= 4  # the first two, and at most two sent after the others came


async def test_every_task_goes_to_one_claim_and_the_rest_find_none() -> None:
    gate, queue = ClaimGate(width=2), FakeQueue(["a", "b", "c"])
    polls = [asyncio.create_task(gate.claim("q", queue.claim)) for _ in range(10)]
    await asyncio.sleep(0)

    queue.release.set()

    got = await asyncio.gather(*polls)
    assert sorted(t for t in got if t is not None) == ["a", "b", "c"]


async def test_an_empty_answer_sent_before_a_claim_came_is_not_shared_with_it() -> None:
    gate = ClaimGate(width=1)
    first = FakeQueue([])
    running = asyncio.create_task(gate.claim("q", first.claim))
    await asyncio.sleep(0)
    later = FakeQueue(["task queued after the first claim looked"])
    waiting = asyncio.create_task(gate.claim("q", later.claim))
    await asyncio.sleep(0)
    later.release.set()

    first.release.set()

    assert await running is None
    assert await waiting == "task queued after the first claim looked"


async def test_a_failed_claim_is_not_taken_for_an_empty_queue() -> None:
    gate = ClaimGate(width=1)
    broken = asyncio.Event()

    async def fails() -> str | None:
        await broken.wait()
        raise ConnectionError("Redis went away")

    failing = asyncio.create_task(gate.claim("q", fails))
    await asyncio.sleep(0)
    queue = FakeQueue(["t"])
    queue.release.set()
    waiting = asyncio.create_task(gate.claim("q", queue.claim))
    await asyncio.sleep(0)

    broken.set()

    assert await waiting == "t"
    assert isinstance((await asyncio.gather(failing, return_exceptions=True))[0], ConnectionError)


async def test_queues_do_not_wait_for_each_other() -> None:
    gate = ClaimGate(width=1)
    stuck = FakeQueue([])
    blocked = asyncio.create_task(gate.claim("a", stuck.claim))
    await asyncio.sleep(0)
    other = FakeQueue(["b-task"])
    other.release.set()

    assert await asyncio.wait_for(gate.claim("b", other.claim), 2) == "b-task"
    stuck.release.set()
    await blocked


async def test_a_poll_cancelled_in_line_holds_no_one_back() -> None:
    gate = ClaimGate(width=1)
    first = FakeQueue(["first's task"])
    running = asyncio.create_task(gate.claim("q", first.claim))
    await asyncio.sleep(0)
    gone = asyncio.create_task(gate.claim("q", FakeQueue([]).claim))
    after = FakeQueue(["after's task"])
    after.release.set()
    waiting = asyncio.create_task(gate.claim("q", after.claim))
    await asyncio.sleep(0)
    gone.cancel()

    first.release.set()

    assert await running == "first's task"
    assert await asyncio.wait_for(waiting, 2) == "after's task"


async def test_a_poll_cancelled_as_its_turn_came_hands_its_turn_on() -> None:
    gate = ClaimGate(width=1)
    release = asyncio.Event()

    async def first_claim() -> str:
        await release.wait()
        # runs before the next in line wakes up: it is cancelled with its turn already given
        asyncio.get_running_loop().call_soon(gone.cancel)
        return "first's task"

    running = asyncio.create_task(gate.claim("q", first_claim))
    await asyncio.sleep(0)
    gone = asyncio.create_task(gate.claim("q", FakeQueue([]).claim))
    after = FakeQueue(["after's task"])
    after.release.set()
    waiting = asyncio.create_task(gate.claim("q", after.claim))
    await asyncio.sleep(0)

    release.set()

    assert await running == "first's task"
    assert await asyncio.wait_for(waiting, 2) == "after's task"
    assert gone.cancelled()


class Counted:
    """An idle queue that answers at once, counting the claims that reach it."""

    def __init__(self) -> None:
        self.tasks: list[str] = []
        self.sent = 0

    async def claim(self) -> str | None:
        self.sent += 1
        return self.tasks.pop(0) if self.tasks else None


async def test_an_empty_queue_is_claimed_from_once_until_a_wake_up_of_its_type() -> None:
    gate, queue = ClaimGate(), Counted()

    assert await gate.claim("q", queue.claim, woken_by="render") is None
    assert await gate.claim("q", queue.claim, woken_by="render") is None
    assert await gate.claim("q", queue.claim, woken_by="render") is None
    assert queue.sent == 1
    queue.tasks.append("t")
    gate.woken("other-type")
    assert await gate.claim("q", queue.claim, woken_by="render") is None  # not its type
    gate.woken("render")

    assert await gate.claim("q", queue.claim, woken_by="render") == "t"
    assert queue.sent == 2


async def test_a_wake_up_heard_while_the_empty_claim_ran_leaves_the_queue_unknown() -> None:
    gate, queue = ClaimGate(), FakeQueue([])
    looking = asyncio.create_task(gate.claim("q", queue.claim, woken_by="render"))
    await asyncio.sleep(0)
    # queued after the claim looked; its wake-up is heard before the answer is back
    gate.woken("render")
    queue.release.set()
    assert await looking is None
    queue.tasks.append("queued while the claim ran")

    assert await gate.claim("q", queue.claim, woken_by="render") == "queued while the claim ran"


async def test_forget_makes_every_empty_queue_claimed_from_again() -> None:
    gate, queue = ClaimGate(), Counted()
    assert await gate.claim("q", queue.claim, woken_by="render") is None
    queue.tasks.append("lost")

    gate.forget()

    assert await gate.claim("q", queue.claim, woken_by="render") == "lost"


async def test_without_woken_by_every_call_claims() -> None:
    gate, queue = ClaimGate(), Counted()
    for _ in range(3):
        assert await gate.claim("q", queue.claim) is None
    assert queue.sent == 3
