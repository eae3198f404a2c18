"""Blueprints with human steps, for the ``waiting_for_human`` deliveries.

``approval``: ``ask`` waits for a person; ``approve`` leads straight into a second wait
(``confirm``), so the job goes from one human wait to another with a new approval token.
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint

approval = Blueprint("approval", api_version="v1", api_endpoint="approval")


@approval.handler(start=True, goes_to=["confirm", "rejected"])
async def ask(actions: Actions) -> None:
    actions.await_human({"approve": "confirm", "reject": "rejected"})


@approval.handler(goes_to=["approved"])
async def confirm(actions: Actions) -> None:
    actions.await_human({"confirm": "approved"})


@approval.handler(end=True)
async def approved() -> dict[str, Any]:
    return {"approved": True}


@approval.handler(end=True)
async def rejected(actions: Actions) -> None:
    actions.fail("REJECTED", "a person said no")
