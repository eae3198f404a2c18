"""Blueprints of the human-step tests (served by real orchestrator processes).

``alert`` is seed 001's alert: compliance acknowledges it (or dismisses it, with notes); left
alone past its deadline it escalates, with a notice, and keeps waiting. Each test picks the
role, due time and escalations through ``initial_data``.
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint

alert = Blueprint("alert", api_endpoint="alerts")


@alert.handler(start=True)
async def review(job_id: str, initial_data: dict[str, Any], actions: Actions) -> None:
    escalations = [
        {**e, "notify": {"text": f"alert {job_id} escalated", "job": job_id, **e["notify"]}}
        if "notify" in e
        else e
        for e in initial_data.get("escalations", [])
    ]
    actions.await_human(
        decisions={"acknowledge": "investigate", "dismiss": "dismissed"},
        role=initial_data.get("role", "compliance"),
        assignee=initial_data.get("assignee"),
        title=f"Alert {initial_data.get('alert_id', '?')}",
        instructions="Check the alert and acknowledge it, or dismiss it with a reason.",
        fields={
            "notes": {"type": "string", "required": True, "for": ["dismiss"]},
            "severity": {"type": "string", "enum": ["low", "high"]},
        },
        due_in=initial_data.get("due_in"),
        escalations=escalations,
        summary={"alert_id": initial_data.get("alert_id")},
    )


@alert.handler(end=True)
async def investigate(
    decision: str, decided_by: str | None, notes: str | None, decision_data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "decision": decision,
        "decided_by": decided_by,
        "notes": notes,
        "data": decision_data,
    }


@alert.handler(end=True)
async def dismissed(decided_by: str | None, notes: str | None) -> dict[str, Any]:
    return {"decision": "dismiss", "decided_by": decided_by, "notes": notes}
