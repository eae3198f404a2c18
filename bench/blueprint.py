"""The benchmark's one-task blueprint.

``BENCH_REQUIRES`` (JSON, e.g. ``{"tags": ["gpu"]}``) gives the task requirements, to measure
routing: set ``WORKER_TAGS`` / ``WORKER_LABELS`` to match, and the workers inherit them.
"""

from __future__ import annotations

import json
import os
from typing import Any

from orchestrator import Actions, Blueprint

REQUIRES = json.loads(os.environ.get("BENCH_REQUIRES") or "null")

one_task = Blueprint("one_task", api_version="v1", api_endpoint="one_task")


@one_task.handler(start=True)
async def start(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task("echo", initial_data, transitions={"success": "done"}, requires=REQUIRES)


@one_task.handler(end=True)
async def done(echo: dict[str, Any]) -> dict[str, Any]:
    return echo
