"""Cookbook: one task at a time, with ``dispatch_task`` and its options.

An invoice: validate the input, look the customer up, charge the card, finish. Run it::

    orchestrator serve --dev --blueprints orchestrator.examples.cookbook_tasks
    worker run orchestrator.examples.cookbook_worker:worker --token dev-worker-token
    orchestrator jobs start v1/invoice --data '{"customer_id": "c-1", "amount": 120}' --wait

``docs/blueprints.md`` walks through it.
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint, RetryPolicy

invoice = Blueprint("invoice", api_version="v1", api_endpoint="invoice")

CUSTOMER_SCHEMA = {
    "type": "object",
    "required": ["customer"],
    "properties": {
        "customer": {
            "type": "object",
            "required": ["id", "card"],
            "properties": {"id": {"type": "string"}, "card": {"type": "string"}},
        }
    },
}
"""What a ``lookup_customer`` result must look like; anything else quarantines the job."""

LOOKUP_DISPATCH_TIMEOUT_S = 60.0
"""How long the lookup may wait for a worker before the job goes to ``no_worker``."""

CHARGE_RETRIES = RetryPolicy(
    max_attempts=5,  # the first attempt included
    initial_interval_s=0.5,
    backoff_coefficient=2.0,
    max_interval_s=10.0,
    non_retryable=("CARD_DECLINED",),  # never retried, even if a worker says retryable
)


@invoice.handler(start=True)
async def validate(initial_data: dict[str, Any], actions: Actions) -> None:
    missing = [name for name in ("customer_id", "amount") if name not in initial_data]
    if missing:
        actions.fail("MISSING_FIELDS", f"initial_data needs {', '.join(missing)}")
        return
    actions.go_to("lookup")


@invoice.handler()
async def lookup(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task(
        "lookup_customer",
        {"customer_id": initial_data["customer_id"]},
        transitions={"success": "charge", "not_found": "unknown_customer"},
        result_schema=CUSTOMER_SCHEMA,
        dispatch_timeout=LOOKUP_DISPATCH_TIMEOUT_S,
        catch={"DISPATCH_TIMEOUT": "no_worker"},
    )


@invoice.handler()
async def charge(initial_data: dict[str, Any], customer: dict[str, Any], actions: Actions) -> None:
    # ``customer`` is a key of the lookup_customer result, injected by name.
    actions.dispatch_task(
        "charge_card",
        {"card": customer["card"], "amount": initial_data["amount"]},
        transitions={"success": "paid"},
        timeout=30,
        priority=5,
        retry_policy=CHARGE_RETRIES,
        catch={"CARD_DECLINED": "declined"},
        requires={"tags": ["pci"]},  # only workers in the card-data zone (WORKER_TAGS=pci)
    )


@invoice.handler(end=True)
async def paid(job_id: str, customer: dict[str, Any], charge_id: str) -> dict[str, Any]:
    return {"paid": True, "customer": customer["id"], "charge_id": charge_id, "job_id": job_id}


@invoice.handler(end=True)
async def declined(customer: dict[str, Any]) -> dict[str, Any]:
    return {"paid": False, "customer": customer["id"], "reason": "card declined"}


@invoice.handler(end=True)
async def unknown_customer(initial_data: dict[str, Any]) -> dict[str, Any]:
    return {"paid": False, "reason": f"no customer {initial_data['customer_id']}"}


@invoice.handler(end=True)
async def no_worker(actions: Actions) -> None:
    actions.fail("NO_BILLING_WORKER", "no worker took the customer lookup in time")
