"""``alert`` changed (another version): served by a process that no longer has the first."""

from __future__ import annotations

from orchestrator import Actions, Blueprint

alert = Blueprint("alert", api_endpoint="alerts")


@alert.handler(start=True)
async def review(actions: Actions) -> None:
    actions.await_human(decisions={"acknowledge": "investigate"}, role="compliance")


@alert.handler(end=True)
async def investigate() -> dict[str, str]:
    return {"version": "2"}
