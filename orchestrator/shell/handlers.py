"""Running a state's handlers: from the state a job entered until it waits or ends.

The handler is user code and may await, so it runs here; what its outcome means for the job
(the action it chose, none, or an exception) is the engine's decision (``engine/handled.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.engine import handled
from orchestrator.engine.actions import ActionError, Actions
from orchestrator.engine.effects import Effects
from orchestrator.engine.inject import MissingArgument, handler_kwargs
from orchestrator.engine.model import Job, JobStatus
from orchestrator.logs import JOB_ID

log = logging.getLogger("orchestrator.shell.handlers")


async def advance(
    registry: BlueprintRegistry, bp: Blueprint, job: Job, now: float
) -> tuple[Job, Effects]:
    """Run handlers from the job's state until it waits or ends."""
    token = JOB_ID.set(job.id)  # what the handlers log carries the job's id as a field
    try:
        return await _advance(registry, bp, job, now)
    finally:
        JOB_ID.reset(token)


async def _advance(
    registry: BlueprintRegistry, bp: Blueprint, job: Job, now: float
) -> tuple[Job, Effects]:
    effects = Effects()
    names = frozenset(bp.states)
    for _ in range(handled.MAX_HOPS):
        if job.status != JobStatus.RUNNING:
            return job, effects
        state = bp.states[job.state]
        actions = Actions()
        try:
            handler = state.pick(job)
            kwargs = handler_kwargs(state.name, handler.params, job, actions)
            value = await handler.func(**kwargs)
        except (ActionError, MissingArgument) as exc:
            return handled.raised(job, state.name, exc, now), effects
        except Exception as exc:
            log.exception("handler of %s.%s failed (job %s)", bp.name, state.name, job.id)
            return handled.raised(job, state.name, exc, now), effects
        job, more = handled.returned(
            job, names, state.name, state.end, actions.chosen, value, now, _known(registry)
        )
        effects.merge(more)
    return handled.looped(job, now), effects


def _known(registry: BlueprintRegistry) -> Callable[[str], bool]:
    return lambda name: registry.get(name) is not None
