"""Blueprints the end-to-end tests serve."""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint

echo = Blueprint("echo", api_version="v1", api_endpoint="echo")


@echo.handler(start=True)
async def ask(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task("echo", initial_data, transitions={"success": "answered"})


@echo.handler(end=True)
async def answered(results: dict[str, Any]) -> dict[str, Any]:
    return results["ask"]


slow = Blueprint("slow", api_version="v1", api_endpoint="slow")


@slow.handler(start=True)
async def work(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task("slow_once", initial_data, transitions={"success": "worked"}, retries=2)


@slow.handler(end=True)
async def worked(worker: str, attempt: int) -> dict[str, Any]:
    return {"worker": worker, "attempt": attempt}


hold = Blueprint("hold", api_version="v1", api_endpoint="hold")


@hold.handler(start=True)
async def holding(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task("hold", initial_data, transitions={"success": "held"})


@hold.handler(end=True)
async def held(worker: str, attempt: int) -> dict[str, Any]:
    return {"worker": worker, "attempt": attempt}
