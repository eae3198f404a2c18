"""The example worker for ``orchestrator.examples.greeting``: it knows the ``greet`` task.

worker run orchestrator.examples.greeting_worker:worker --token dev-worker-token
"""

from __future__ import annotations

from typing import Any

from worker_sdk import TaskContext, TaskError, Worker

worker = Worker()


@worker.task("greet")
async def greet(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    name = params.get("name")
    if not isinstance(name, str) or not name:
        raise TaskError("BAD_PARAMS", "params.name must be a non-empty string")
    return {"greeting": f"Hello, {name}!", "attempt": ctx.attempt}
