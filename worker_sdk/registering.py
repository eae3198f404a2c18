"""Registering a worker with the orchestrator: at start, retried until it answers, and again
when the orchestrator has forgotten it."""

from __future__ import annotations

import asyncio
import logging

from .backoff import RECONNECT_BACKOFF
from .client import TRANSPORT_ERRORS, OrchestratorClient, Registration, unreachable_reason
from .config import WorkerSettings, redact_url
from .errors import ApiError

logger = logging.getLogger("worker_sdk")


async def register(
    client: OrchestratorClient, settings: WorkerSettings, skills: list[str]
) -> Registration:
    registration = await client.register(skills)
    logger.info(
        "worker %s registered at %s for %s (capacity %d)",
        settings.worker_id,
        redact_url(settings.url),
        ", ".join(skills),
        settings.capacity,
    )
    return registration


async def register_until_done(
    client: OrchestratorClient, settings: WorkerSettings, skills: list[str], stop: asyncio.Event
) -> Registration | None:
    """``register``, retried while the orchestrator is unreachable or answers a transient
    error; None when ``stop`` is set first."""
    delays = RECONNECT_BACKOFF.delays()
    failures = 0
    while not stop.is_set():
        try:
            return await register(client, settings, skills)
        except ApiError as exc:
            if not exc.transient:
                raise
            reason = str(exc)
        except TRANSPORT_ERRORS as exc:
            reason = unreachable_reason(exc)
        failures += 1
        log = logger.warning if failures == 1 else logger.debug
        log(
            "cannot register with %s (%s); retrying until it answers: is the orchestrator "
            "running there? (--url / ORCH_URL)",
            redact_url(settings.url),
            reason,
        )
        try:
            await asyncio.wait_for(stop.wait(), next(delays))
        except TimeoutError:
            pass
    return None
