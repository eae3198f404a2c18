"""What a client sees of a waiting human step (the inbox, the decision answers)."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.engine.human_spec import fields_for
from orchestrator.engine.model import JSON


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def task_view(job_id: str, blueprint: str, human: JSON, now: float) -> JSON:
    due = human.get("due")
    fields = human.get("fields") or {}
    decisions = [
        {"decision": d, "fields": fields_for(fields, d)} for d in sorted(human["decisions"])
    ]
    return {
        "job_id": job_id,
        "blueprint": blueprint,
        "state": human["state"],
        "title": human.get("title"),
        "instructions": human.get("instructions"),
        "role": human.get("role"),
        "assignee": human.get("assignee"),
        "decisions": decisions,
        "created_at": iso(float(human.get("created") or now)),
        "due_at": iso(float(due)) if due is not None else None,
        "overdue": due is not None and float(due) <= now,
        "escalation_level": int(human.get("level") or 0),
        "escalation_levels": len(human.get("escalations") or []),
        "summary": human.get("summary"),
    }
