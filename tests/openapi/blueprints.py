"""Blueprints the fuzz run serves besides ``tests/api/blueprints.py``: one that waits for a
person, so that the approval webhook meets a job that can take a decision."""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint
from tests.api.blueprints import ALL as API_BLUEPRINTS

approval = Blueprint("approval", api_version="v1", api_endpoint="approval")


@approval.handler(start=True)
async def ask(actions: Actions) -> None:
    actions.await_human(decisions={"approve": "approved", "reject": "rejected"})


@approval.handler(end=True)
async def approved() -> dict[str, Any]:
    return {"approved": True}


@approval.handler(end=True)
async def rejected() -> dict[str, Any]:
    return {"approved": False}


ALL = [*API_BLUEPRINTS, approval]
