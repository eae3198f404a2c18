"""Blueprints the orchestrator runs for itself, served by every registry but listed nowhere
(no API route, not in ``GET /api/v1/blueprints`` nor the OpenAPI document).

``human_notify`` runs one escalation's ``notify`` task as a job of its own: the escalated job
keeps waiting whatever becomes of the notice, and the notice still gets the task's retries,
leases and history.
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
    actions.dispatch_task(
        NOTIFY_TASK,
        initial_data.get("params") or {},
        transitions={"success": "sent", "failure": "not_sent"},
        retries=3,
    )


@notify.handler(end=True)
async def sent(initial_data: dict[str, Any]) -> dict[str, Any]:
    return {"notified": True, "job_id": initial_data.get("job_id")}


@notify.handler(end=True)
async def not_sent(actions: Actions) -> None:
    actions.fail("NOTIFY_FAILED", "the notify task failed")


INTERNAL: dict[str, Blueprint] = {notify.name: notify}
