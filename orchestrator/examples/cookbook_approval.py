"""Cookbook: wait for a person with ``await_human``.

An expense up to 100 is approved at once; a larger one waits for the manager, and goes to the
director when the manager does not answer in time. Decisions arrive on the approval webhook,
with the job's approval token. Run it::

    orchestrator serve --dev --blueprints orchestrator.examples.cookbook_approval
    orchestrator jobs start v1/expenses --data '{"amount": 450}'
    # then POST /_public/webhooks/approval/{job_id}: see docs/blueprints.md

No worker is needed: nothing here is a task.
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint

expenses = Blueprint("expense_approval", api_version="v1", api_endpoint="expenses")


@expenses.handler(start=True)
async def check(initial_data: dict[str, Any], actions: Actions) -> None:
    if initial_data.get("amount", 0) <= 100:
        actions.go_to("approved")
    else:
        actions.go_to("ask_manager")


@expenses.handler()
async def ask_manager(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.await_human(
        decisions={"approve": "approved", "reject": "rejected"},
        timeout=initial_data.get("manager_timeout_s", 24 * 3600),
        on_timeout="ask_director",
    )


@expenses.handler()
async def ask_director(actions: Actions) -> None:
    actions.await_human(decisions={"approve": "approved", "reject": "rejected"})  # no deadline


@expenses.handler(end=True)
async def approved(initial_data: dict[str, Any], decision: str | None = None) -> dict[str, Any]:
    # ``decision`` is there only when a person decided: it has a default for the small amounts.
    return {"approved": True, "amount": initial_data.get("amount", 0), "by_person": bool(decision)}


@expenses.handler(end=True)
async def rejected(state_history: list[dict[str, Any]]) -> dict[str, Any]:
    asked = [s["state"] for s in state_history if s["state"].startswith("ask_")]
    return {"approved": False, "asked": asked}
