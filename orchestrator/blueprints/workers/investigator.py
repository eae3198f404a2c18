"""The example worker of the alert process (``orchestrator.blueprints.alerts``): it knows the
``alert.investigate`` task, which an acknowledged alert hands over before it ends RESOLVED.

    worker run orchestrator.blueprints.workers.investigator:worker --token dev-worker-token

A real investigation would query the systems the alert is about (transactions, sanctions
lists, the entity's history). This one derives its findings from the alert itself, the same
every time, so that a demo or a test knows what to expect.
"""

from __future__ import annotations

from typing import Any

from worker_sdk import TaskContext, TaskError, Worker

worker = Worker()

RISK = {"low": 0.2, "medium": 0.45, "high": 0.7, "critical": 0.9}
"""The risk score an investigation starts from, by the alert's severity."""


def _entity_name(entity: Any) -> str:
    if isinstance(entity, dict):
        return str(entity.get("name") or entity.get("id") or "unknown entity")
    return str(entity) if entity else "unknown entity"


@worker.task("alert.investigate")
async def investigate(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    severity = params.get("severity")
    if severity not in RISK:
        raise TaskError("BAD_PARAMS", f"params.severity must be one of {', '.join(RISK)}")
    entity = _entity_name(params.get("entity"))
    details = params.get("details")
    findings = [
        f"{entity}: screened against the sanctions and PEP lists, no match",
        f"{entity}: activity reviewed for the alert '{params.get('title')}'",
    ]
    if isinstance(details, dict) and details:
        findings.append("alert details checked: " + ", ".join(sorted(map(str, details))))
    score = RISK[severity]
    return {
        "findings": findings,
        "risk_score": score,
        "recommendation": "escalate to a case" if score >= RISK["high"] else "close",
        "investigated_by": ctx.worker_id,
    }
