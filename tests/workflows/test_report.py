"""A closed ticket's report, built from its history."""

from __future__ import annotations

from typing import Any

from orchestrator.workflows.report import ticket_report


def entered(state: str, at: float) -> dict[str, Any]:
    return {"type": "state_entered", "state": state, "at": at}


def decided(state: str, decision: str, at: float, actor: str, notes: str) -> dict[str, Any]:
    return {
        "type": "human_decided",
        "state": state,
        "decision": decision,
        "at": at,
        "actor": actor,
        "notes": notes,
    }


HISTORY = [
    {"type": "job_created", "at": 99.0},
    entered("received", 100.0),
    entered("Resolution", 100.0),
    decided("Resolution", "Resolved", 110.0, "ann", "fixed"),
    entered("Review", 110.0),
    {"type": "escalated", "state": "Review", "level": 1, "at": 115.0},
    decided("Review", "Reopen", 130.0, "bob", "not fixed"),
    entered("Resolution", 130.0),
    {"type": "approval", "state": "Resolution", "decision": "Resolved", "at": 131.0},
    entered("Review", 131.0),
    decided("Review", "Approve", 132.0, "bob", "ok"),
    entered("closed", 132.0),
]


def report() -> dict[str, Any]:
    due = {"Resolution": 20.0, "Review": 10.0}
    return ticket_report(
        HISTORY, steps={"Resolution", "Review"}, due=due, sla_s=60, closed_at=132.0
    )


def test_every_visit_is_in_the_path_loops_included() -> None:
    path = report()["path"]

    assert [(v["step"], v["decision"], v["actor"]) for v in path] == [
        ("Resolution", "Resolved", "ann"),
        ("Review", "Reopen", "bob"),
        ("Resolution", "Resolved", None),
        ("Review", "Approve", "bob"),
    ]
    assert path[1]["notes"] == "not fixed"
    assert path[0]["entered_at"] == "1970-01-01T00:01:40.000Z"
    assert path[0]["left_at"] == "1970-01-01T00:01:50.000Z"


def test_each_visit_says_whether_it_met_its_sla() -> None:
    path = report()["path"]

    assert [v["duration_s"] for v in path] == [10.0, 20.0, 1.0, 1.0]
    assert [v["sla_met"] for v in path] == [True, False, True, True]
    assert path[1]["escalations"] == 1


def test_total_time_and_the_tickets_sla() -> None:
    out = report()

    assert out["total_time_s"] == 32.0
    assert out["sla_met"] is True
    assert out["steps_sla_met"] is False
