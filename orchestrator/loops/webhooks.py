"""The webhook sender's background duty: one connection pool for the process's deliveries, the
sender hooked to the runner's commits, and its sweep run when the pacer says.

It lives with the other loops rather than in ``webhooks/``: the runner (``shell/jobs.py``)
writes ``webhooks/outbox.py``'s entries, and the sweeper of this package drives the runner, so
a ``webhooks`` that imported ``loops`` would close a circle. Scheduling stays here; what a
delivery is and how it is sent stays in ``webhooks/sender.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from orchestrator.loops.pacer import Pacer
from orchestrator.loops.supervisor import run_paced
from orchestrator.metrics import Metrics
from orchestrator.webhooks.http import Pool
from orchestrator.webhooks.sender import Committer, Sender


def webhook_sender(
    runner: Committer, metrics: Metrics
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx`` entry; add it after the one that closes the store, so that it exits
    first. Without a ``webhook_secret`` there is nothing to sign with, and it does nothing."""

    async def background(_: web.Application) -> AsyncIterator[None]:
        settings = runner.settings
        if not settings.webhooks.secret:
            yield
            return
        # One pool of keep-alive connections for every delivery of the process: a burst to
        # one receiver reuses its connections, as many as the sender's slots let be busy.
        pool = Pool(max_idle=settings.webhooks.max_in_flight)
        try:
            sender = Sender(runner, metrics, pool)
            sender.attach()
            # The entries this process puts back say when they come due; the others (a dead
            # process's) are found by an idle sweep.
            pacer = Pacer(settings.sweeps.interval_s, settings.sweeps.idle_interval_s)
            sender.outbox.comes_due = runner.webhooks_due = pacer.poke
            loop = asyncio.create_task(run_paced("webhook sender", pacer, sender.tick))
            yield
            sender.detach()
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)
            await sender.close()
        finally:
            pool.close()

    return background
