"""The periodic re-check of parked polls reads the requirement sets only when polls are
parked: an idle process sends nothing for it, and still forgets what it knew empty."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from orchestrator.config import Settings
from orchestrator.loops.sweeper import Sweeper


class _Store:
    def __init__(self) -> None:
        self.refreshes = 0

    async def refresh_routes(self) -> None:
        self.refreshes += 1


class _Dispatcher:
    def __init__(self, waiting: int) -> None:
        self.waiting = waiting
        self.woken = 0

    def wake_all(self) -> None:
        self.woken += 1


def _sweeper(store: _Store, dispatcher: _Dispatcher) -> Sweeper:
    runner: Any = SimpleNamespace(store=store, settings=Settings.from_flat())
    return Sweeper(runner, dispatcher)  # type: ignore[arg-type]


async def test_with_no_poll_parked_the_sets_are_not_read() -> None:
    store, dispatcher = _Store(), _Dispatcher(waiting=0)
    await _sweeper(store, dispatcher).recheck_waiters()
    assert (store.refreshes, dispatcher.woken) == (0, 1)


async def test_with_polls_parked_they_are_read_then_the_polls_claim() -> None:
    store, dispatcher = _Store(), _Dispatcher(waiting=3)
    await _sweeper(store, dispatcher).recheck_waiters()
    assert (store.refreshes, dispatcher.woken) == (1, 1)
