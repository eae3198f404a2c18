"""Alert handling (seed 001): compliance acknowledges an alert, an investigation resolves it.

An alert is a job whose id is the alert's id. It waits for the ``compliance`` role to
``acknowledge`` or ``dismiss`` it. Unacknowledged past its severity's deadline it escalates,
once per deadline passed, to the next role of ``ALERT_ESCALATION_ROLES`` with a ``notify``
task, and keeps waiting. Acknowledged, it hands an ``alert.investigate`` task to a worker
(``orchestrator/blueprints/workers/investigator.py``) and ends ``RESOLVED`` with the findings.

``alert_view.py`` tells the alert's status in the seed's vocabulary from the job.

    orchestrator serve --dev --blueprints orchestrator.blueprints.alerts
    worker run orchestrator.blueprints.workers.investigator:worker --token dev-worker-token
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint
from orchestrator.blueprint.routes import ActionRoute, ReadRoute, Reply, StartRoute
from orchestrator.blueprints import alert_schemas, alert_view
from orchestrator.blueprints.alert_settings import FIRST_ROLE, SETTINGS, SEVERITIES
from orchestrator.human.view import iso

NOT_FOUND = Reply(404, {"error": "Alert not found", "alertId": "{{ id }}"})
REFUSED = {"error": "{{ error.message }}", "code": "{{ error.code }}"}
"""Any other refusal (bad token, bad body), in seed 001's ``{"error": ...}`` shape, coded."""


def _decision_route(decision: str, status: str, done: str) -> ActionRoute:
    return ActionRoute(
        f"/api/v1/alerts/{{id}}/{decision}",
        decision=decision,
        ok=Reply(
            200,
            {"success": True, "alertId": "{{ id }}", "status": status, "message": done},
        ),
        not_found=NOT_FOUND,
        not_waiting=Reply(400, alert_view.already),
        invalid=Reply(400, REFUSED),
        error=REFUSED,
        statuses=alert_view.status,
        summary=f"{decision.capitalize()} an alert (seed 001)",
    )


ROUTES = (
    StartRoute(
        "/api/v1/alerts",
        # the alert's id, when the client has one, is the job's id: one alert, one job
        job_id_from=("header.Idempotency-Key", "body.id"),
        errors={"MISSING_FIELDS": 400, "VALIDATION_ERROR": 400},
        accepted={
            "success": True,
            "alertId": "{{ job_id }}",
            "status": "{{ status }}",
            "message": "Alert received",
        },
        failure=REFUSED,
        statuses=alert_view.status,
        body_schema=alert_schemas.NEW_ALERT,
        summary="Raise an alert: it waits for compliance to acknowledge or dismiss it",
    ),
    _decision_route("acknowledge", alert_view.ACKNOWLEDGED, "Alert acknowledged successfully"),
    _decision_route("dismiss", alert_view.DISMISSED, "Alert dismissed successfully"),
    ReadRoute(
        "/api/v1/alerts/{id}",
        ok=Reply(200, alert_view.view),
        ok_schema=alert_schemas.ALERT,
        not_found=NOT_FOUND,
        error=REFUSED,
        statuses=alert_view.status,
        summary="An alert, its status (OPEN, ESCALATED, ACKNOWLEDGED, RESOLVED, DISMISSED) "
        "and the investigation's findings",
    ),
)

# The seed's routes are the way in; the plain create route is there too, under its own name.
alerts = Blueprint("alerts", api_version="v1", api_endpoint="alert-jobs", routes=ROUTES)

INVESTIGATE_TASK = "alert.investigate"
INVESTIGATION_TIMEOUT_S = 120


def problems(data: dict[str, Any]) -> tuple[str, str] | None:
    """``(code, message)`` of what is wrong with a new alert, or None."""
    missing = [f for f in ("severity", "title") if data.get(f) in (None, "")]
    if missing:
        return "MISSING_FIELDS", f"missing required field(s): {', '.join(missing)}"
    if data["severity"] not in SEVERITIES:
        return "VALIDATION_ERROR", f"severity: must be one of {', '.join(SEVERITIES)}"
    if not isinstance(data["title"], str):
        return "VALIDATION_ERROR", "title: must be a string"
    entity = data.get("entity")
    if entity is not None and not isinstance(entity, str | dict):
        return "VALIDATION_ERROR", "entity: must be a string or an object"
    details = data.get("details")
    if details is not None and not isinstance(details, str | dict):
        return "VALIDATION_ERROR", "details: must be a string or an object"
    return None


def _escalations(alert_id: str, severity: str, deadline: float) -> list[dict[str, Any]]:
    # One level per deadline passed: the alert moves up a role each time, and everyone
    # hears of it, because whoever should have acted has not.
    return [
        {
            "after": deadline * level,
            "to_role": role,
            "notify": {
                "text": f"Alert {alert_id} ({severity}) is not acknowledged after "
                f"{deadline * level:g} s: escalated to {role}",
                "variant": "warning",
                "is_global": True,
            },
        }
        for level, role in enumerate(SETTINGS.escalation_roles, start=1)
    ]


@alerts.handler(start=True)
async def received(job_id: str, initial_data: dict[str, Any], actions: Actions) -> None:
    wrong = problems(initial_data)
    if wrong is not None:
        actions.fail(*wrong)
        return
    actions.go_to("review")


@alerts.handler()
async def review(job_id: str, initial_data: dict[str, Any], actions: Actions) -> None:
    severity = initial_data["severity"]
    deadline = SETTINGS.deadlines_s[severity]
    actions.await_human(
        decisions={"acknowledge": "investigate", "dismiss": "dismissed"},
        role=FIRST_ROLE,
        title=f"Alert {job_id} ({severity}): {initial_data['title']}",
        instructions="Review the alert. Acknowledge it to start an investigation, or dismiss it.",
        fields={"notes": {"type": "string"}},
        due_in=deadline,
        escalations=_escalations(job_id, severity, deadline),
        summary={
            "alertId": job_id,
            "severity": severity,
            "title": initial_data["title"],
            "entity": initial_data.get("entity"),
        },
    )


@alerts.handler()
async def investigate(
    job_id: str,
    initial_data: dict[str, Any],
    decided_by: str | None,
    notes: str | None,
    actions: Actions,
) -> None:
    actions.dispatch_task(
        INVESTIGATE_TASK,
        {
            "alert_id": job_id,
            "severity": initial_data["severity"],
            "title": initial_data["title"],
            "entity": initial_data.get("entity"),
            "details": initial_data.get("details"),
            "acknowledged_by": decided_by,
            "notes": notes,
        },
        transitions={"success": "resolved"},
        timeout=INVESTIGATION_TIMEOUT_S,
    )


@alerts.handler(end=True)
async def resolved(
    job_id: str, results: dict[str, Any], findings: Any, task_result: dict[str, Any]
) -> dict[str, Any]:
    ack = results.get("review") or {}
    at = ack.get("decided_at")
    return {
        "alertId": job_id,
        "status": "RESOLVED",
        "acknowledgedBy": ack.get("decided_by"),
        "acknowledgedAt": iso(at) if isinstance(at, int | float) else None,
        "notes": ack.get("notes"),
        "findings": findings,
        "investigation": {k: v for k, v in task_result.items() if k != "findings"},
    }


@alerts.handler(end=True)
async def dismissed(job_id: str, decided_by: str | None, notes: str | None) -> dict[str, Any]:
    return {"alertId": job_id, "status": "DISMISSED", "dismissedBy": decided_by, "notes": notes}
