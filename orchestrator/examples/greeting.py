"""The example blueprint: validate the input, ask a worker to greet, finish with its greeting.

Run it with ``orchestrator demo``, or serve it and start the worker yourself::

    orchestrator serve --dev --blueprints orchestrator.examples.greeting
    worker run orchestrator.examples.greeting_worker:worker --token dev-worker-token
    orchestrator jobs start v1/greeting --data '{"name": "Ada"}' --wait
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint

blueprint = Blueprint("greeting", api_version="v1", api_endpoint="greeting")


@blueprint.handler(start=True)
async def validate(initial_data: dict[str, Any], actions: Actions) -> None:
    name = initial_data.get("name")
    if not isinstance(name, str) or not name.strip():
        actions.fail("MISSING_FIELDS", "initial_data.name is required")
        return
    actions.dispatch_task(
        "greet",
        {"name": name.strip()},
        transitions={"success": "done", "failure": "failed"},
        timeout=30,
    )


@blueprint.handler(end=True)
async def done(job_id: str, greeting: str) -> dict[str, Any]:
    return {"greeting": greeting, "job_id": job_id}


@blueprint.handler(end=True)
async def failed(actions: Actions) -> None:
    actions.fail("GREETING_FAILED", "the greet task failed")
