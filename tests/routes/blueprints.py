"""Blueprints that declare routes, for the route tests: an audit-like start route (JSON and
multipart, typed fields, files, error codes mapped to statuses) and an alert-like job with an
action route and a read route in seed 001's shapes. ``alert.yaml`` is the YAML twin of the
alert."""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint
from orchestrator.blueprint.routes import ActionRoute, ReadRoute, Reply, StartRoute, StatusRule

ERRORS = {"MISSING_FIELDS": 400, "VALIDATION_ERROR": 400, "NOT_FOUND": 404, "EMAIL_SEND_ERROR": 502}
FORM = {"task_uuid": "string", "notes": "string", "isCall": "boolean", "count": "integer"}

audit = Blueprint(
    "route_audit",
    routes=[
        StartRoute(
            "/api/v1/validate-thing",
            form=FORM,
            files="attachments",
            wait_s=10,
            errors=ERRORS,
            summary="Validate a thing and wait for the outcome",
            body_schema={"type": "object", "properties": {"task_uuid": {"type": "string"}}},
        ),
        StartRoute("/api/v1/validate-thing-quickly", wait_s=0.3, errors=ERRORS),
    ],
)


@audit.handler(start=True)
async def check(initial_data: dict[str, Any], actions: Actions) -> None:
    missing = [f for f in ("task_uuid", "notes", "isCall") if f not in initial_data]
    if missing:
        actions.fail("MISSING_FIELDS", f"missing fields: {', '.join(missing)}")
    elif not isinstance(initial_data["isCall"], bool):
        actions.fail("VALIDATION_ERROR", "isCall must be a boolean")
    elif initial_data.get("explode"):
        actions.fail("KABOOM", "a code nobody mapped")
    elif initial_data.get("instant"):
        actions.finish({"success": True, "code": "OK", "details": dict(initial_data)})
    else:
        actions.dispatch_task(
            "route_send",
            {"task_uuid": initial_data["task_uuid"]},
            transitions={"success": "sent"},
            retries=0,
        )


@audit.handler(end=True)
async def sent(initial_data: dict[str, Any], sent_to: list[str]) -> dict[str, Any]:
    return {
        "success": True,
        "code": "OK",
        "details": {"task_uuid": initial_data["task_uuid"], "sent_to": sent_to},
    }


STATUSES = (
    StatusRule("OPEN", state="review"),
    StatusRule("ACKNOWLEDGED", decision="acknowledge"),
    StatusRule("DISMISSED", decision="dismiss"),
)


def _already(data: Any) -> dict[str, Any]:
    # a callable body: Python computes what a template cannot
    return {
        "error": f"Alert already {str(data['status']).lower()}",
        "currentStatus": data["status"],
    }


alert = Blueprint(
    "route_alert",
    routes=[
        StartRoute(
            "/api/v1/route-alerts",
            job_id_from=("body.id", "header.Idempotency-Key"),
            actor_header="x-username",
        ),
        ActionRoute(
            "/api/v1/route-alerts/{id}/acknowledge",
            decision="acknowledge",
            ok=Reply(
                200,
                {
                    "success": True,
                    "alertId": "{{ id }}",
                    "status": "ACKNOWLEDGED",
                    "message": "Alert acknowledged",
                },
            ),
            not_found=Reply(404, {"error": "Alert not found", "alertId": "{{ id }}"}),
            not_waiting=Reply(400, _already),
            invalid=Reply(400, {"error": "{{ error.message }}", "currentStatus": "{{ status }}"}),
            error={"error": "{{ error.message }}", "code": "{{ error.code }}"},
            actor_header="x-username",
            statuses=STATUSES,
        ),
        ActionRoute(
            "/api/v1/route-alerts/{id}/dismiss",
            decision="dismiss",
            ok=Reply(200, {"success": True, "alertId": "{{ id }}", "status": "DISMISSED"}),
            not_found=Reply(404, {"error": "Alert not found", "alertId": "{{ id }}"}),
            not_waiting=Reply(400, _already),
            invalid=Reply(
                400, {"error": "{{ error.message }}", "field": "{{ error.details.field }}"}
            ),
            statuses=STATUSES,
        ),
        ReadRoute(
            "/api/v1/route-alerts/{id}",
            ok=Reply(
                200,
                {
                    "alertId": "{{ id }}",
                    "status": "{{ status }}",
                    "severity": "{{ initial_data.severity }}",
                    "acknowledgedBy": "{{ decision.actor }}",
                },
            ),
            not_found=Reply(404, {"error": "Alert not found", "alertId": "{{ id }}"}),
            statuses=STATUSES,
        ),
    ],
)


@alert.handler(start=True)
async def review(actions: Actions) -> None:
    actions.await_human(
        decisions={"acknowledge": "acknowledged", "dismiss": "dismissed"},
        role="compliance",
        fields={"notes": {"type": "string", "required": True, "for": ["dismiss"]}},
    )


@alert.handler(end=True)
async def acknowledged(decided_by: str | None) -> dict[str, Any]:
    return {"status": "ACKNOWLEDGED", "by": decided_by}


@alert.handler(end=True)
async def dismissed(notes: str | None) -> dict[str, Any]:
    return {"status": "DISMISSED", "notes": notes}


ALL = [audit, alert]
