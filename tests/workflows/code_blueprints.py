"""A code-defined blueprint the registration tests serve: registered names must not clash."""

from __future__ import annotations

from orchestrator import Actions, Blueprint

code_defined = Blueprint("code-defined", api_endpoint="code-defined")


@code_defined.handler(start=True)
async def begin(actions: Actions) -> None:
    actions.go_to("done")


@code_defined.handler(end=True)
async def done() -> dict[str, bool]:
    return {"ok": True}
