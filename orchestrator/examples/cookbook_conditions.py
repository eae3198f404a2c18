"""Cookbook: conditional transitions with ``when=`` guards.

An order is scored by a worker, then routed: blocked, sent to manual review, or approved.
The state ``route`` has three handlers; the first whose guard matches the job's data runs, and
the one without ``when=`` runs when none does. Run it::

    orchestrator serve --dev --blueprints orchestrator.examples.cookbook_conditions
    worker run orchestrator.examples.cookbook_worker:worker --token dev-worker-token
    orchestrator jobs start v1/orders --data '{"amount": 2500, "country": "FR"}' --wait

``docs/blueprints.md`` walks through it.
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint
from orchestrator.blueprint.conditions import where

orders = Blueprint("order_routing", api_version="v1", api_endpoint="orders")

BLOCKED_COUNTRIES = ["XX", "YY"]
IS_VIP = where("initial_data.vip") == True  # noqa: E712 - builds a guard, compares nothing


@orders.handler(start=True)
async def score(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task(
        "risk_score",
        {"amount": initial_data.get("amount", 0), "country": initial_data.get("country", "")},
        transitions={"success": "route"},
    )


# Guards are checked in the order they are declared.
@orders.handler(
    "route",
    when=(where("results.score.risk") == "high")
    | where("initial_data.country").is_in(BLOCKED_COUNTRIES),
)
async def route_blocked(actions: Actions) -> None:
    actions.go_to("blocked")


@orders.handler(
    "route",
    when=(where("initial_data.amount") > 1000) & ~IS_VIP,
)
async def route_review(actions: Actions) -> None:
    actions.go_to("manual_review")


@orders.handler("route")  # the default: no guard matched
async def route_approve(actions: Actions) -> None:
    actions.go_to("approved")


@orders.handler(end=True)
async def blocked(risk: str) -> dict[str, Any]:
    return {"decision": "blocked", "risk": risk}


@orders.handler(end=True)
async def manual_review(risk: str) -> dict[str, Any]:
    return {"decision": "manual_review", "risk": risk}


@orders.handler(end=True)
async def approved(risk: str) -> dict[str, Any]:
    return {"decision": "approved", "risk": risk}
