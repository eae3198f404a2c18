"""The sweep pacing: idle sweeps are rare, and work this process stored is swept when due."""

from __future__ import annotations

import asyncio
import time

from orchestrator.loops.pacer import Pacer


async def _waits(pacer: Pacer, longest: float) -> float:
    """Seconds ``pacer.wait()`` took; fails past ``longest``."""
    started = time.monotonic()
    await asyncio.wait_for(pacer.wait(), longest)
    return time.monotonic() - started


async def _sweep(pacer: Pacer, found: bool) -> None:
    pacer.starting()
    pacer.ran(found)


async def test_the_first_sweep_runs_at_once() -> None:
    assert await _waits(Pacer(0.05, 60), 1) < 0.05


async def test_with_nothing_found_the_next_sweep_waits_the_idle_interval() -> None:
    pacer = Pacer(0.01, 0.3)
    await _sweep(pacer, found=False)

    took = await _waits(pacer, 5)

    assert took >= 0.25


async def test_a_sweep_that_found_work_runs_again_at_the_base_pace() -> None:
    pacer = Pacer(0.05, 60)
    await _sweep(pacer, found=True)

    assert await _waits(pacer, 2) < 1


async def test_a_poke_brings_the_next_sweep_to_when_the_work_is_due() -> None:
    pacer = Pacer(0.05, 60)
    await _sweep(pacer, found=False)
    waiting = asyncio.create_task(_waits(pacer, 5))
    await asyncio.sleep(0)  # let it start waiting for the idle interval

    pacer.poke(time.time() + 0.2)

    took = await waiting
    assert 0.15 <= took < 2


async def test_a_poke_for_now_waits_the_base_interval_after_the_last_sweep() -> None:
    pacer = Pacer(0.3, 60)
    await _sweep(pacer, found=False)

    pacer.poke()

    assert 0.25 <= await _waits(pacer, 5) < 2


async def test_a_poke_during_a_sweep_is_kept_for_after_it() -> None:
    pacer = Pacer(0.05, 60)
    pacer.starting()
    pacer.poke(time.time() + 0.2)  # written by the sweep itself: not served by it
    pacer.ran(False)

    assert await _waits(pacer, 5) < 2


async def test_pokes_for_several_times_each_get_a_sweep() -> None:
    pacer = Pacer(0.05, 60)
    await _sweep(pacer, found=False)
    now = time.time()
    pacer.poke(now + 0.1)
    pacer.poke(now + 0.3)

    await _waits(pacer, 2)
    await _sweep(pacer, found=False)  # the first; the second is still ahead

    took = await _waits(pacer, 2)
    assert time.time() >= now + 0.3 - 0.01
    assert took < 1
