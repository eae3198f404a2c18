"""The benchmark's one-task blueprint."""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint

one_task = Blueprint("one_task", api_version="v1", api_endpoint="one_task")


@one_task.handler(start=True)
async def start(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task("echo", initial_data, transitions={"success": "done"})


@one_task.handler(end=True)
async def done(echo: dict[str, Any]) -> dict[str, Any]:
    return echo
