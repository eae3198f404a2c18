"""Load-time checks of a blueprint's graph; every problem is reported at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from orchestrator.blueprint.routes import blueprint_problems
from orchestrator.errors import BlueprintError

if TYPE_CHECKING:
    from orchestrator.blueprint.dsl import Blueprint, State


def problems(bp: Blueprint) -> list[str]:
    found: list[str] = []
    states = bp.states
    if not states:
        return ["it has no states"]
    starts = sorted(s.name for s in states.values() if s.start)
    ends = sorted(s.name for s in states.values() if s.end)
    if not starts:
        found.append("no start state (mark one handler with start=True)")
    elif len(starts) > 1:
        found.append(f"more than one start state: {', '.join(starts)}")
    if not ends:
        found.append("no end state (mark at least one handler with end=True)")
    for st in states.values():
        found += state_problems(st, states)
    if len(starts) == 1:
        reachable = reachable_from(bp, starts[0])
        unreachable = sorted(states.keys() - reachable)
        if unreachable:
            found.append(f"unreachable state(s) from {starts[0]!r}: {', '.join(unreachable)}")
    create = f"/api/{bp.api_version}/{bp.api_endpoint}"
    found += blueprint_problems(bp.routes, create, sorted(states))
    return found


def state_problems(st: State, states: Mapping[str, State]) -> list[str]:
    """The problems of one state in its graph: flags, targets, guards (each names it)."""
    found: list[str] = []
    if st.start and st.end:
        found.append(f"state {st.name!r} is both start and end")
    unknown = sorted(st.targets - states.keys())
    if unknown:
        found.append(f"state {st.name!r} moves to unknown state(s): {', '.join(unknown)}")
    if st.end and st.targets:
        found.append(f"end state {st.name!r} has outgoing transitions")
    if st.dynamic:
        found.append(
            f"state {st.name!r} computes a target at run time; declare the states it may "
            "move to with goes_to=[...]"
        )
    elif not st.end and not st.targets:
        found.append(f"state {st.name!r} is not an end state and moves nowhere")
    for handler in st.handlers:
        for path in sorted(handler.when.paths() if handler.when else ()):
            parts = path.split(".")
            if parts[0] == "results" and len(parts) > 1 and parts[1] not in states:
                found.append(
                    f"state {st.name!r} has a condition on missing state {parts[1]!r} ({path})"
                )
    return found


def reachable_from(bp: Blueprint, start: str) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        st = bp.states.get(todo.pop())
        if st is None:
            continue
        for nxt in st.targets - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def validate(bp: Blueprint) -> None:
    found = problems(bp)
    if found:
        raise BlueprintError(bp.name, found)
