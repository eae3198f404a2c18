"""The blueprint the console's browser tests run: a worker task the test opens and fails at
will, then a human step for the ``desk`` role."""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint

review = Blueprint("review", api_version="v1", api_endpoint="review")


@review.handler(start=True)
async def prepare(initial_data: dict[str, Any], actions: Actions) -> None:
    # no failure transition: a failed gate fails the job here, in `prepare`, and a retry
    # runs `prepare` again
    actions.dispatch_task("gate", {"key": initial_data["key"]}, transitions={"success": "decide"})


@review.handler()
async def decide(initial_data: dict[str, Any], actions: Actions) -> None:
    key = initial_data["key"]
    actions.await_human(
        decisions={"approve": "approved", "reject": "rejected"},
        role="desk",
        title=f"Review {key}",
        instructions="Approve it, or reject it with a reason.",
        fields={"notes": {"type": "string", "required": True, "for": ["reject"]}},
        due_in=3600,
        escalations=[{"after": 7200, "to_role": "desk-lead"}],
        summary={"key": key},
    )


@review.handler(end=True)
async def approved(decided_by: str | None) -> dict[str, Any]:
    return {"approved_by": decided_by}


@review.handler(end=True)
async def rejected(decided_by: str | None, notes: str | None) -> dict[str, Any]:
    return {"rejected_by": decided_by, "notes": notes}


orphan = Blueprint("orphan", api_version="v1", api_endpoint="orphan")


@orphan.handler(start=True)
async def queued(actions: Actions) -> None:
    # no worker serves `nobody`: the task stays in its queue, for the overview to age
    actions.dispatch_task("nobody", {}, transitions={"success": "served"})


@orphan.handler(end=True)
async def served() -> dict[str, Any]:
    return {}
