"""What a handler's outcome means for its job: the rules between a state's handler and the
state that comes next.

The shell runs the handler (user code, which may await) and hands its outcome here: the
action it chose (or none), the value it returned, or the exception it raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.engine import machine
from orchestrator.engine.actions import Action, ActionError, Fail, Finish
from orchestrator.engine.effects import Effects
from orchestrator.engine.inject import MissingArgument
from orchestrator.engine.model import Job

MAX_HOPS = 100
"""go_to steps within one transition before the job is failed as a loop."""


def raised(job: Job, state: str, exc: Exception, now: float) -> Job:
    """The handler of ``state`` raised: the job fails with the code of what went wrong."""
    if isinstance(exc, ActionError):
        return machine.fail(job, exc.code, str(exc), now)
    if isinstance(exc, MissingArgument):
        return machine.fail(job, "HANDLER_ARGUMENT_MISSING", str(exc), now)
    return machine.fail(job, "HANDLER_ERROR", f"{state}: {exc!r}", now)


def returned(
    job: Job,
    states: frozenset[str],
    state: str,
    end: bool,
    chosen: Action | None,
    value: Any,
    now: float,
    known_blueprint: Callable[[str], bool],
) -> tuple[Job, Effects]:
    """The handler of ``state`` (an end state if ``end``) returned ``value`` having chosen
    ``chosen``: the job as it enters what comes next, and the effects of entering it.

    ``known_blueprint`` tells whether a blueprint a child would run is served here.
    """
    if chosen is None:
        if not end:
            msg = f"handler of {state!r} chose no action and is not an end state"
            return machine.fail(job, "NO_ACTION", msg, now), Effects()
        chosen = Finish(value)
    elif end and not isinstance(chosen, Finish | Fail):
        msg = f"end state {state!r} may only finish or fail the job"
        return machine.fail(job, "INVALID_TRANSITION", msg, now), Effects()
    entered, effects = machine.enter(job, states, chosen, now)
    for _, name, _ in effects.children:
        if not known_blueprint(name):
            msg = f"no blueprint {name!r} to run as a child"
            return machine.fail(entered, "UNKNOWN_BLUEPRINT", msg, now), Effects()
    return entered, effects


def looped(job: Job, now: float) -> Job:
    """The handlers went from state to state ``MAX_HOPS`` times without the job waiting."""
    return machine.fail(job, "TRANSITION_LOOP", f"more than {MAX_HOPS} go_to steps", now)
