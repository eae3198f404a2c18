"""An alert as seed 001's clients see it: its status in the seed's vocabulary, and its body.

| status | the job |
|---|---|
| ``OPEN`` | waits for compliance to acknowledge or dismiss it |
| ``ESCALATED`` | still waits, past at least one deadline (moved up a role) |
| ``ACKNOWLEDGED`` | acknowledged; the investigation runs |
| ``RESOLVED`` | the investigation ended; its findings are in the body |
| ``DISMISSED`` | dismissed |
| ``FAILED`` / ``CANCELLED`` | the job failed (bad alert, investigation failed) or was cancelled |
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.engine.model import Job, JobStatus
from orchestrator.human.view import iso

OPEN, ESCALATED, ACKNOWLEDGED = "OPEN", "ESCALATED", "ACKNOWLEDGED"
RESOLVED, DISMISSED, FAILED, CANCELLED = "RESOLVED", "DISMISSED", "FAILED", "CANCELLED"


def _decision(job: Job) -> str | None:
    # The human step's result stays in ``results`` once the alert has moved on.
    taken = job.results.get("review")
    return taken.get("decision") if isinstance(taken, dict) else None


def status(job: Job) -> str:
    """The alert's status in the seed's vocabulary."""
    decision = _decision(job)
    if job.status == JobStatus.FINISHED:
        return DISMISSED if decision == "dismiss" else RESOLVED
    if decision == "dismiss":
        return DISMISSED
    if job.status == JobStatus.CANCELLED:
        return CANCELLED
    if job.terminal and decision != "acknowledge":
        return FAILED
    if decision == "acknowledge":
        # an investigation that failed leaves the alert acknowledged, with the error shown
        return ACKNOWLEDGED
    if job.human is not None and int(job.human.get("level") or 0) > 0:
        return ESCALATED
    return OPEN


def _when(ts: Any) -> str | None:
    return iso(ts) if isinstance(ts, int | float) else None


def view(data: Mapping[str, Any]) -> dict[str, Any]:
    """``GET /api/v1/alerts/{id}`` from what a declared route sees of the job
    (``blueprint/routes.py``): the alert, its status, who acted, and what was found."""
    job = data["job"]
    alert = data["initial_data"]
    taken = data["results"].get("review")
    decided: dict[str, Any] = taken if isinstance(taken, dict) else {}
    result = data["result"] if isinstance(data["result"], dict) else {}
    waiting = job.get("approval") or {}
    return {
        "alertId": data["job_id"],
        "status": data["status"],
        "severity": alert.get("severity"),
        "title": alert.get("title"),
        "entity": alert.get("entity"),
        "details": alert.get("details"),
        "createdAt": job["created_at"],
        "updatedAt": job["updated_at"],
        "assignedRole": waiting.get("role"),
        "dueAt": waiting.get("due_at"),
        "decidedBy": decided.get("decided_by"),
        "decidedAt": _when(decided.get("decided_at")),
        "notes": decided.get("notes"),
        "findings": result.get("findings"),
        "error": job.get("error"),
    }


def already(data: Mapping[str, Any]) -> dict[str, Any]:
    """The 400 of an acknowledge or dismiss on an alert that waits for neither any more."""
    current = data["status"]
    said = {ACKNOWLEDGED: "acknowledged", RESOLVED: "acknowledged", DISMISSED: "dismissed"}
    word = said.get(current)
    return {
        "error": f"Alert already {word}" if word else f"Alert is {str(current).lower()}",
        "currentStatus": current,
    }
