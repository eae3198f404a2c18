"""``compute_audit_results``: replace an audit's answers and recompute its score against
the current criteria (seed 000, "Compute Audit Results").

check ─ audit.update ─► computed

The input is checked here (``fields.py``); the store worker writes the new answers, the
file name and who changed them (the seed's ``x-username`` header), recomputes the score
(``score.py``) and answers ``NOT_FOUND`` for an unknown audit.
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint
from orchestrator.blueprints.audit.fields import FieldProblem, compute_input, kind
from orchestrator.blueprints.audit.routes import COMPUTE

blueprint = Blueprint(
    "compute_audit_results", api_version="v1", api_endpoint="audit-results", routes=[COMPUTE]
)

STORE_TIMEOUT_S = 30


@blueprint.handler(start=True)
async def check(initial_data: dict[str, Any], actions: Actions) -> None:
    try:
        given = compute_input(initial_data)
    except FieldProblem as problem:
        actions.fail(problem.code, problem.message)
        return
    actions.dispatch_task(
        "audit.update",
        {
            "task_uuid": given.task_uuid,
            "is_call": given.is_call,
            "file_name": given.file_name,
            "audit": list(given.audit),
            "updated_by": given.actor,
        },
        transitions={"success": "computed"},
        timeout=STORE_TIMEOUT_S,
    )


@blueprint.handler(end=True)
async def computed(initial_data: dict[str, Any], audit: dict[str, Any]) -> dict[str, Any]:
    given = compute_input(initial_data)
    return {
        "success": True,
        "code": "OK",
        "details": {
            "type": kind(given.is_call),
            "task_uuid": given.task_uuid,
            "file_name": audit["file_name"],
            "score": audit["score"],
            "computed_at": audit["updated_at"],
            "updated_by": audit.get("updated_by"),
        },
    }
