"""Human steps as work items (``docs/human-steps.md``): seed 001's alert, which compliance
staff acknowledge or dismiss, with a due time by severity and escalations that keep it waiting.

    orchestrator serve --dev --blueprints orchestrator.examples.human_alerts
    curl -s -X POST localhost:8080/api/v1/alert-reviews -H 'X-Client-Token: dev-client-token' \\
      -d '{"initial_data": {"alert_id": "a-17", "severity": "high"}}'
    curl -s 'localhost:8080/api/v1/human-tasks?role=compliance' -H 'X-Client-Token: ...'
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint

alert_review = Blueprint("alert_review", api_endpoint="alert-reviews")

DUE_S = {"high": 15 * 60, "medium": 4 * 3600, "low": 24 * 3600}
"""How long compliance has to acknowledge an alert, by severity."""


@alert_review.handler(start=True)
async def acknowledge(job_id: str, initial_data: dict[str, Any], actions: Actions) -> None:
    severity = initial_data.get("severity", "medium")
    due = DUE_S.get(severity, DUE_S["medium"])
    alert_id = initial_data.get("alert_id", job_id)
    actions.await_human(
        decisions={"acknowledge": "investigate", "dismiss": "dismissed"},
        role="compliance",
        title=f"Alert {alert_id} ({severity})",
        instructions="Review the alert. Acknowledge it to start an investigation, or dismiss "
        "it with a reason.",
        fields={"notes": {"type": "string", "required": True, "for": ["dismiss"]}},
        due_in=due,
        escalations=[
            # past the due time: tell the compliance lead, the alert keeps waiting
            {
                "after": due,
                "notify": {"text": f"alert {alert_id} is overdue", "variant": "warning"},
            },
            # twice the due time: it becomes the lead's, and everyone hears of it
            {
                "after": 2 * due,
                "to_role": "compliance-lead",
                "notify": {"text": f"alert {alert_id} escalated", "is_global": True},
            },
        ],
        summary={"alert_id": alert_id, "severity": severity},
    )


@alert_review.handler(end=True)
async def investigate(decided_by: str | None, notes: str | None) -> dict[str, Any]:
    return {"status": "ACKNOWLEDGED", "acknowledged_by": decided_by, "notes": notes}


@alert_review.handler(end=True)
async def dismissed(decided_by: str | None, notes: str) -> dict[str, Any]:
    return {"status": "DISMISSED", "dismissed_by": decided_by, "reason": notes}
