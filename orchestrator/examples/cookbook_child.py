"""Cookbook: run a child blueprint with ``run_blueprint``.

``onboarding`` starts a ``kyc_check`` job as its child and resumes when the child ends, on a
transition chosen by the child's final status. Both blueprints must be served by the same
orchestrator. Run it::

    orchestrator serve --dev --blueprints orchestrator.examples.cookbook_child
    worker run orchestrator.examples.cookbook_worker:worker --token dev-worker-token
    orchestrator jobs start v1/onboarding --data '{"user": "ada", "document": "P-123"}' --wait

``docs/blueprints.md`` walks through it.
"""

from __future__ import annotations

from typing import Any

from orchestrator import Actions, Blueprint

kyc = Blueprint("kyc_check", api_version="v1", api_endpoint="kyc")


@kyc.handler(start=True)
async def verify(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.dispatch_task(
        "verify_identity",
        {"document": initial_data["document"]},
        transitions={"success": "verified", "failure": "not_verified"},
        retries=0,
    )


@kyc.handler(end=True)
async def verified(identity_score: float) -> dict[str, Any]:
    return {"identity_score": identity_score}


@kyc.handler(end=True)
async def not_verified(actions: Actions) -> None:
    actions.fail("KYC_FAILED", "the document could not be verified")


onboarding = Blueprint("onboarding", api_version="v1", api_endpoint="onboarding")


@onboarding.handler(start=True)
async def check_identity(initial_data: dict[str, Any], actions: Actions) -> None:
    actions.run_blueprint(
        "kyc_check",
        {"document": initial_data["document"]},
        transitions={"finished": "activate", "failed": "rejected"},
    )


@onboarding.handler(end=True)
async def activate(initial_data: dict[str, Any], identity_score: float) -> dict[str, Any]:
    # ``identity_score`` comes from the child's result, merged into this job's context.
    return {"user": initial_data["user"], "active": True, "identity_score": identity_score}


@onboarding.handler(end=True)
async def rejected(results: dict[str, Any]) -> dict[str, Any]:
    child = results["check_identity"]  # {"status", "result", "error"} of the child job
    return {"active": False, "reason": child["error"]["code"]}
