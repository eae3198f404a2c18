"""Blueprints of the routing and limits tests: the requirements come with the job's data."""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint

routed = Blueprint("routed", api_version="v1", api_endpoint="routed")


@routed.handler(start=True)
async def place(initial_data: dict[str, Any], actions: Actions) -> None:
    requires = initial_data.get("requires")
    actions.dispatch_task(
        "where", initial_data, transitions={"success": "placed"}, requires=requires
    )


@routed.handler(end=True)
async def placed(results: dict[str, Any]) -> dict[str, Any]:
    return results["place"]


held = Blueprint("held", api_version="v1", api_endpoint="held")


@held.handler(start=True)
async def hold(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task("held", initial_data, transitions={"success": "released"})


@held.handler(end=True)
async def released(results: dict[str, Any]) -> dict[str, Any]:
    return results["hold"]
