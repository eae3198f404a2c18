"""Blueprints the orchestrator runs for itself, served by every registry but listed nowhere
(no API route, not in ``GET /api/v1/blueprints`` nor the OpenAPI document).

``human_notify`` runs one escalation's ``notify`` task as a job of its own: the escalated job
keeps waiting whatever becomes of the notice, and the notice still gets the task's retries,
leases and history. A notice that failed is a ``failed`` job of this blueprint, which the
client lists (``GET /api/v1/jobs?blueprint=human_notify&status=failed``) and retries.
"""

from __future__ import annotations

from typing import Any

from orchestrator.blueprint.dsl import Blueprint
from orchestrator.engine.actions import Actions
from orchestrator.engine.human import NOTIFY_BLUEPRINT

NOTIFY_TASK = "notify"

notify = Blueprint(NOTIFY_BLUEPRINT, api_version="internal", api_endpoint=NOTIFY_BLUEPRINT)


@notify.handler(start=True)
async def send(initial_data: dict[str, Any], actions: Actions) -> None:
    # A failure is left unmapped: the job fails here with the worker's code and message, so
    # that POST /api/v1/jobs/{id}/retry (seed 003's "retry failed notification") resumes in
    # this state and sends the notice again.
    actions.dispatch_task(
        NOTIFY_TASK, initial_data.get("params") or {}, transitions={"success": "sent"}, retries=3
    )


@notify.handler(end=True)
async def sent(initial_data: dict[str, Any]) -> dict[str, Any]:
    return {"notified": True, "job_id": initial_data.get("job_id")}


INTERNAL: dict[str, Blueprint] = {notify.name: notify}
