"""The worker for the cookbook blueprints (``orchestrator/examples/cookbook_*.py``)::

    worker run orchestrator.examples.cookbook_worker:worker --token dev-worker-token

Its handlers are toys that decide from their params, so that every path of the cookbook can be
tried by hand: ``docs/blueprints.md`` says which input takes which path. They also show the SDK's
ways to end a task (``docs/worker-sdk.md``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from worker_sdk import RetryLater, TaskContext, TaskError, TaskResult, Worker

worker = Worker(tags=["pci"])  # may take the card charges, which require the tag

CUSTOMERS = {"c-1": {"id": "c-1", "card": "4242"}, "c-2": {"id": "c-2", "card": "0000"}}

_charges: dict[str, str] = {}
"""Stands in for the payment gateway's own record of idempotency keys."""


@worker.task("lookup_customer")
async def lookup_customer(params: dict[str, Any]) -> dict[str, Any]:
    customer = CUSTOMERS.get(params["customer_id"])
    if customer is None:
        # A failure with a custom status: the blueprint maps "not_found" to a state of its own.
        raise TaskError("CUSTOMER_NOT_FOUND", params["customer_id"], status="not_found")
    return {"customer": customer}


@worker.task("charge_card")
async def charge_card(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    if params["card"] == "0000":
        raise TaskError("CARD_DECLINED", "the bank declined the card")  # not retryable
    if params.get("amount", 0) > 1000 and ctx.attempt == 1:
        raise RetryLater("the gateway is busy")  # retryable: the blueprint's policy decides
    # The task id is the same on every attempt of this task: a safe idempotency key for the
    # gateway, so a retried or duplicated delivery never charges twice.
    charge_id = _charges.setdefault(ctx.task_id, f"ch_{len(_charges) + 1}")
    return {"charge_id": charge_id, "attempts": ctx.attempt}


@worker.task("risk_score")
async def risk_score(params: dict[str, Any]) -> dict[str, Any] | TaskResult:
    amount = params.get("amount", 0)
    if not isinstance(amount, int | float) or amount < 0:
        # A custom status that is not a failure; this blueprint does not map it, so the job
        # is quarantined (UNMAPPED_TASK_STATUS) until someone looks at it.
        return TaskResult("unscorable", {"amount": amount})
    risk = "high" if amount > 10_000 else "medium" if amount > 1000 else "low"
    return {"risk": risk}


@worker.task("resize")
def resize(params: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
    # A plain def runs in a thread, so CPU or blocking work does not stall the worker. A thread
    # cannot be interrupted: long loops should check ctx.is_cancelled between steps.
    size = params["size"]
    if size > 2048:
        raise TaskError("TOO_LARGE", f"cannot make a {size}px thumbnail")
    digest = hashlib.sha256(f"{params['image']}:{size}".encode()).hexdigest()[:8]
    return {"size": size, "file": f"{params['image']}.{size}.{digest}.png"}


@worker.task("verify_identity")
async def verify_identity(params: dict[str, Any]) -> dict[str, Any]:
    if not str(params.get("document", "")).startswith("P-"):
        raise TaskError("UNREADABLE_DOCUMENT", "not a passport number")
    return {"identity_score": 0.97}
