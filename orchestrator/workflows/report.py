"""The result of a closed ticket: the path it took, its times, and the SLA of each step.

Built from the job's history (every event, in order), because a loop visits a step more than
once and only the history keeps each visit's decision, actor and notes. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

DECISION_EVENTS = frozenset({"approval", "human_decided", "decision"})
"""History events that record a person's decision (the webhook's and the decision API's)."""


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ticket_report(
    history: Sequence[Mapping[str, Any]],
    *,
    steps: Collection[str],
    due: Mapping[str, float | None],
    sla_s: int | None,
    closed_at: float,
) -> dict[str, Any]:
    """``steps``: the states that are the workflow's steps; ``due``: step → seconds allowed
    (for the ticket's priority); ``sla_s``: the ticket's whole SLA."""
    path: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for event in history:
        kind = event.get("type")
        at = float(event.get("at", closed_at))
        if kind == "state_entered":
            if current is not None:
                _leave(current, at)
                current = None
            if event.get("state") in steps:
                current = _visit(str(event["state"]), at, due)
                path.append(current)
        elif current is not None and event.get("state", current["step"]) == current["step"]:
            if kind in DECISION_EVENTS:
                current["decision"] = event.get("decision")
                current["actor"] = event.get("actor", event.get("decided_by"))
                current["notes"] = event.get("notes")
            elif kind == "escalated":
                current["escalations"] += 1
    if current is not None:
        _leave(current, closed_at)
    started = path[0]["_entered"] if path else closed_at
    total = round(closed_at - started, 3)
    for visit in path:
        del visit["_entered"], visit["_left"]
    return {
        "path": path,
        "total_time_s": total,
        "sla_s": sla_s,
        "sla_met": (total <= sla_s) if sla_s else None,
        "steps_sla_met": all(v["sla_met"] is not False for v in path),
        "closed_at": iso(closed_at),
    }


def _visit(step: str, at: float, due: Mapping[str, float | None]) -> dict[str, Any]:
    return {
        "step": step,
        "decision": None,
        "actor": None,
        "notes": None,
        "entered_at": iso(at),
        "left_at": None,
        "duration_s": None,
        "due_s": due.get(step),
        "sla_met": None,
        "escalations": 0,
        "_entered": at,
        "_left": None,
    }


def _leave(visit: dict[str, Any], at: float) -> None:
    visit["_left"] = at
    visit["left_at"] = iso(at)
    took = round(at - visit["_entered"], 3)
    visit["duration_s"] = took
    allowed = visit["due_s"]
    visit["sla_met"] = (took <= allowed) if allowed else None
