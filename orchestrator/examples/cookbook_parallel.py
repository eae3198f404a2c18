"""Cookbook: fan out with ``dispatch_parallel``, join in an aggregator.

One ``resize`` task per thumbnail size runs in parallel; the aggregator runs once, after every
branch has reported, with every branch's result. Run it::

    orchestrator serve --dev --blueprints orchestrator.examples.cookbook_parallel
    worker run orchestrator.examples.cookbook_worker:worker --token dev-worker-token
    orchestrator jobs start v1/thumbnails --data '{"image": "cat.png"}' --wait

``docs/blueprints.md`` walks through it.
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint

thumbnails = Blueprint("thumbnails", api_version="v1", api_endpoint="thumbnails")

SIZES = (64, 256, 1024)


@thumbnails.handler(start=True)
async def fan_out(initial_data: dict[str, Any], actions: Actions) -> None:
    sizes = initial_data.get("sizes", SIZES)
    actions.dispatch_parallel(
        [
            {
                "task_type": "resize",
                "params": {"image": initial_data["image"], "size": size},
                "timeout": 60,
                "retries": 2,
            }
            for size in sizes
        ],
        aggregate_into="collect",
        failure_policy="collect",  # or "fail_fast" (the default)
    )


@thumbnails.handler(end=True)
async def collect(
    parallel_results: list[dict[str, Any]], actions: Actions
) -> dict[str, Any] | None:
    # One entry per branch, in the order dispatched: {task_type, status, data, error}.
    made = [r["data"] for r in parallel_results if r["status"] == "success"]
    failed = [r["error"]["code"] for r in parallel_results if r["error"]]
    if not made:
        actions.fail("NO_THUMBNAILS", f"every resize failed: {', '.join(failed)}")
        return None
    return {"thumbnails": made, "failed": failed}
