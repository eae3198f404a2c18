"""Builds a handler's arguments from the job, by parameter name."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterable
from typing import Any

from orchestrator.engine.actions import Actions
from orchestrator.engine.model import Job


class MissingArgument(Exception):
    def __init__(self, state: str, names: list[str], offered: Iterable[str] = ()) -> None:
        # A misspelt parameter is the usual cause: name what it was probably meant to be.
        offered = sorted(offered)
        near = [
            f"{name} -> {close[0]}"
            for name in names
            if (close := difflib.get_close_matches(name, offered, n=1, cutoff=0.75))
        ]
        super().__init__(
            f"handler of state {state!r} asks for {', '.join(names)}, which no earlier task "
            "result provides (give the parameter a default if it is optional)"
            + (f"; did you mean: {', '.join(near)}?" if near else "")
        )
        self.names = names


def handler_kwargs(
    state: str, params: Iterable[inspect.Parameter], job: Job, actions: Actions
) -> dict[str, Any]:
    last = job.results.get(job.state_history[-2]["state"]) if len(job.state_history) > 1 else None
    known: dict[str, Any] = {
        "job_id": job.id,
        "initial_data": job.initial_data,
        "state_history": job.state_history,
        "actions": actions,
        "results": job.results,
        "context": job.context,
        # every event so far, for handlers that report on the whole run (a ticket's path)
        "history": job.history,
        "task_result": last,
    }
    kwargs: dict[str, Any] = {}
    missing: list[str] = []
    for param in params:
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        if param.name in known:
            kwargs[param.name] = known[param.name]
        elif param.name in job.context:
            kwargs[param.name] = job.context[param.name]
        elif param.default is inspect.Parameter.empty:
            missing.append(param.name)
    if missing:
        raise MissingArgument(state, missing, [*known, *job.context])
    return kwargs
