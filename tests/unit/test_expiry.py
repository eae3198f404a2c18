"""``Expiry`` (``dispatch/expiry.py``): parked polls' timeouts, one timer per tick."""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.dispatch.expiry import LEAD, LEAD_MAX_S, TICK_S, Expiry
from tests.helpers import wait_for


async def test_polls_due_in_one_tick_share_a_timer_that_fires_by_their_deadlines() -> None:
    expired: list[str] = []
    expiry: Expiry[str] = Expiry(expired.append)
    now = asyncio.get_running_loop().time()
    start = (int(now / TICK_S) + 100) * TICK_S  # a tick 10 s away
    deadlines = {"a": start + 0.01, "b": start + 0.05, "c": start + 0.09}
    ticks = {w: expiry.add(w, d, 20.0) for w, d in deadlines.items()}
    assert expiry.timers() == 1
    for w, tick in ticks.items():
        assert deadlines[w] - LEAD_MAX_S <= tick <= deadlines[w]  # early a little, not late
    expiry.remove("b", ticks["b"])
    assert expiry.timers() == 1
    expiry.remove("a", ticks["a"])
    expiry.remove("c", ticks["c"])
    assert expiry.timers() == 0


async def test_a_short_poll_is_not_let_go_early_by_a_whole_tick() -> None:
    expiry: Expiry[str] = Expiry(lambda _: None)
    now = asyncio.get_running_loop().time()
    deadline = (int(now / TICK_S) + 100) * TICK_S + 0.09
    tick = expiry.add("short", deadline, 0.2)
    assert tick == pytest.approx(deadline - 0.2 * LEAD)
    expiry.remove("short", tick)
    assert expiry.timers() == 0


async def test_a_tick_lets_go_the_polls_still_due_in_it() -> None:
    expired: list[str] = []
    expiry: Expiry[str] = Expiry(expired.append)
    now = asyncio.get_running_loop().time()
    ticks = [expiry.add(w, now, 1.0) for w in ("a", "b", "c")]  # due now
    expiry.remove("b", ticks[1])
    await wait_for(lambda: len(expired) == 2, what="the tick to fire")
    assert expired == ["a", "c"]
    assert expiry.timers() == 0
