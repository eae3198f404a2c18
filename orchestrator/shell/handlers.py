"""Running a state's handlers: from the state a job entered until it waits or ends.

The handler is user code and may await; what its outcome means for the job is the engine's
decision (``machine.enter``), and a handler that raises fails the job.
"""

from __future__ import annotations

import logging

from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.engine import machine
from orchestrator.engine.actions import ActionError, Actions, Fail, Finish
from orchestrator.engine.effects import Effects
from orchestrator.engine.inject import MissingArgument, handler_kwargs
from orchestrator.engine.model import Job, JobStatus
from orchestrator.logs import JOB_ID

log = logging.getLogger("orchestrator.shell.handlers")

MAX_HOPS = 100
"""go_to steps within one transition before the job is failed as a loop."""


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
    for _ in range(MAX_HOPS):
        if job.status != JobStatus.RUNNING:
            return job, effects
        state = bp.states[job.state]
        actions = Actions()
        try:
            handler = state.pick(job)
            kwargs = handler_kwargs(state.name, handler.params, job, actions)
            returned = await handler.func(**kwargs)
        except (ActionError, MissingArgument) as exc:
            code = exc.code if isinstance(exc, ActionError) else "HANDLER_ARGUMENT_MISSING"
            return machine.fail(job, code, str(exc), now), effects
        except Exception as exc:
            log.exception("handler of %s.%s failed (job %s)", bp.name, state.name, job.id)
            return machine.fail(job, "HANDLER_ERROR", f"{state.name}: {exc!r}", now), effects
        action = actions.chosen
        if action is None:
            if not state.end:
                msg = f"handler of {state.name!r} chose no action and is not an end state"
                return machine.fail(job, "NO_ACTION", msg, now), effects
            action = Finish(returned)
        elif state.end and not isinstance(action, Finish | Fail):
            msg = f"end state {state.name!r} may only finish or fail the job"
            return machine.fail(job, "INVALID_TRANSITION", msg, now), effects
        job, more = machine.enter(job, names, action, now)
        for _, name, _ in more.children:
            if registry.get(name) is None:
                msg = f"no blueprint {name!r} to run as a child"
                return machine.fail(job, "UNKNOWN_BLUEPRINT", msg, now), effects
        effects.merge(more)
    loop = f"more than {MAX_HOPS} go_to steps"
    return machine.fail(job, "TRANSITION_LOOP", loop, now), effects
