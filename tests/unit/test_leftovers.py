"""``Leftovers``: members a failed sweep took are tried again next sweep, the failed one last,
and one that keeps failing is left to its hold after ``MAX_TRIES`` rounds."""

from __future__ import annotations

import pytest

from orchestrator.loops.leftovers import MAX_TRIES, Leftovers


class Acts:
    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.done: list[str] = []
        self.tried: list[str] = []

    async def __call__(self, member: str) -> None:
        self.tried.append(member)
        if member in self.failing:
            raise ConnectionError(member)
        self.done.append(member)


def taking(*batches: list[str]):  # type: ignore[no-untyped-def]
    queue = list(batches)

    async def take() -> list[str]:
        return queue.pop(0) if queue else []

    return take


async def test_the_members_after_a_failure_and_the_failed_one_go_next_time() -> None:
    left, acts = Leftovers(), Acts({"b"})
    take = taking(["a", "b", "c"], ["d"])
    with pytest.raises(ConnectionError):
        await left.work_off(take, acts)
    assert acts.done == ["a"]
    acts.failing.clear()
    assert await left.work_off(take, acts)
    assert acts.done == ["a", "c", "b", "d"]
    assert len(left) == 0
    assert not await left.work_off(take, acts)


async def test_a_member_that_keeps_failing_delays_no_other_and_is_dropped() -> None:
    left, acts = Leftovers(), Acts({"bad"})
    take = taking(["bad", "x"], ["y"], ["z"])
    for _ in range(MAX_TRIES):
        with pytest.raises(ConnectionError):
            await left.work_off(take, acts)
    assert await left.work_off(take, acts)  # "bad" is no longer tried here: its hold's turn
    assert acts.done == ["x", "y", "z"]
    assert acts.tried.count("bad") == MAX_TRIES
    assert len(left) == 0


async def test_a_failed_take_keeps_what_was_left() -> None:
    left, acts = Leftovers(), Acts({"a"})
    with pytest.raises(ConnectionError):
        await left.work_off(taking(["a"]), acts)

    async def unreachable() -> list[str]:
        raise ConnectionError("take")

    with pytest.raises(ConnectionError):
        await left.work_off(unreachable, acts)
    acts.failing.clear()
    assert await left.work_off(taking(), acts)
    assert acts.done == ["a"]
