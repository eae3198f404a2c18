"""Blueprints of the cluster end-to-end suite, besides those it reuses (``tests.e2e.blueprints``'
echo, ``tests.e2e3.blueprints``' approval and child): a fan-out of echo tasks and a parent of
the e2e3 child. Unlike their e2e3 counterparts they count nothing in Redis, whose test helpers
speak to one node, not to a cluster."""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint

spread = Blueprint("spread", api_endpoint="spread")


@spread.handler(start=True)
async def scatter(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_parallel(
        [{"task_type": "echo", "params": {"i": i}} for i in range(initial_data["n"])],
        aggregate_into="gathered",
    )


@spread.handler(end=True)
async def gathered(parallel_results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "values": [r["data"]["echo"]["i"] for r in parallel_results],
        "statuses": sorted({r["status"] for r in parallel_results}),
        "workers": sorted({r["data"]["worker"] for r in parallel_results}),
    }


elder = Blueprint("elder", api_endpoint="elder")


@elder.handler(start=True)
async def beget(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.run_blueprint(
        "child", initial_data, transitions={"finished": "raised", "failed": "orphaned"}
    )


@elder.handler(end=True)
async def raised(results: dict[str, Any], doubled: int) -> dict[str, Any]:
    return {"doubled": doubled, "child": results["beget"]}


@elder.handler(end=True)
async def orphaned() -> dict[str, Any]:
    return {"child": "failed"}
