"""Waiting for a job to end, parked on the process's job waiters (no polling): what
``GET /api/v1/jobs/{id}?wait=`` and declared start routes (``routes_declared.py``) share."""

from __future__ import annotations

import asyncio

from aiohttp import web

from orchestrator.appkeys import JOB_WAITERS, RUNNER
from orchestrator.engine.model import Job


async def wait_ended(app: web.Application, job_id: str, client: str, wait_s: float) -> Job:
    """The job once it has ended, or as it is when ``wait_s`` has passed (404 if unknown)."""
    runner, waiters = app[RUNNER], app[JOB_WAITERS]
    loop = asyncio.get_running_loop()
    final = waiters.final(job_id, client)
    if final is not None:
        return final
    deadline = loop.time() + wait_s
    # A job created here and not ended since needs no first read (job_waiters.py).
    unread = waiters.fresh(job_id, client)
    while True:
        # A wake-up means "read the job again" (it ended, or messages may have been lost in
        # a pub/sub reconnect), so wait again until it is terminal or the time is up.
        woken = waiters.register(job_id)
        try:
            rev = 0
            if not unread:
                job = await runner.get(job_id, client)
                left = deadline - loop.time()
                if job.terminal or left <= 0 or waiters.closed:
                    return job
                rev = job.rev
            unread = False
            try:
                ended = await asyncio.wait_for(woken, deadline - loop.time())
            except TimeoutError:
                continue
            # An end this process committed is the stored state: answer with it, unless this
            # wait already read a later rev (a retry that overtook the hand-over).
            if ended is not None and ended.client == client and ended.rev > rev:
                return ended
        finally:
            waiters.forget(job_id, woken)
