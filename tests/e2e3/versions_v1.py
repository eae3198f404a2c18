"""Version 1 of the ``versioned`` blueprint; ``versions_v2`` changes it under the same name."""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint
from tests.e2e3.shared import count

versioned = Blueprint("versioned", api_endpoint="versioned")


@versioned.handler(start=True)
async def ask(actions: Actions) -> None:
    actions.dispatch_task("echo", {"v": 1}, transitions={"success": "answered"}, retries=0)


@versioned.handler(end=True)
async def answered(job_id: str) -> dict[str, Any]:
    count("answered-v1", job_id)
    return {"version": 1}
