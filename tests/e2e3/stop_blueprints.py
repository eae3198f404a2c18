"""The blueprint of the ended-fan-out tests (``--blueprints tests.e2e3.stop_blueprints``).

A fan-out of ``n`` ``hold`` branches, run by ``tests.e2e3.stop_workers``: the branch numbered
``fail`` (if any) fails for good at once, which fails the job under ``fail_fast``; every other
branch holds its worker until it is cancelled, so a branch that is never cancelled shows.
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint

held_fanout = Blueprint("held_fanout", api_endpoint="held_fanout")


@held_fanout.handler(start=True)
async def hold_all(initial_data: dict[str, Any], actions: Actions) -> None:
    fail = initial_data.get("fail")
    actions.dispatch_parallel(
        [
            {"task_type": "hold", "params": {"i": i, "fail": i == fail}, "retries": 0}
            for i in range(initial_data["n"])
        ],
        aggregate_into="all_held",
        failure_policy="fail_fast",
    )


@held_fanout.handler(end=True)
async def all_held() -> dict[str, Any]:
    return {"held": True}
