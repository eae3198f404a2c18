"""``validate_audit``: validate a call or chat audit and e-mail it (seed 000, "Validate Audit").

check ─ audit.load (audit.update, given new answers) ─► send ─ email.send × recipient ─►
sent ─ audit.mark_validated ─► notify ─ notify ─► validated

The input is checked here (``fields.py``); the store worker loads the audit with its score
recomputed against today's criteria (``NOT_FOUND`` when absent); one ``email.send`` task per
recipient runs in parallel and every outcome is collected, so that a failure names each
recipient that failed (``EMAIL_SEND_ERROR``); the store records the validation and its time;
a notification tells the operator. The result is the seed's 200 body.
"""

from __future__ import annotations

import os
from typing import Any

from orchestrator import Actions, Blueprint, RetryPolicy
from orchestrator.blueprints.audit import mail
from orchestrator.blueprints.audit.fields import FieldProblem, kind, validate_input
from orchestrator.blueprints.audit.routes import VALIDATE
from orchestrator.blueprints.notifications import TASK_TYPE as NOTIFY
from orchestrator.blueprints.notifications import notify_params
from orchestrator.errors import ConfigError

# The seed's route (``routes.py``) is the way in; the plain create route has its own name.
blueprint = Blueprint(
    "validate_audit", api_version="v1", api_endpoint="audit-validations", routes=[VALIDATE]
)

STORE_TIMEOUT_S = 30
NOTIFY_WAIT_VAR = "AUDIT_NOTIFY_WAIT_S"


def notify_wait_s(raw: str | None) -> float:
    """How long a validation waits for a notifier before it ends without notifying:
    ``AUDIT_NOTIFY_WAIT_S`` seconds, 10 when unset."""
    if raw is None or not raw.strip():
        return 10.0
    try:
        seconds = float(raw)
    except ValueError:
        raise ConfigError(f"{NOTIFY_WAIT_VAR}: {raw!r} is not a number of seconds") from None
    if not 0 < seconds <= 86400:
        raise ConfigError(f"{NOTIFY_WAIT_VAR}: must be above 0 and at most 86400, not {raw!r}")
    return seconds


NOTIFY_DISPATCH_TIMEOUT_S = notify_wait_s(os.environ.get(NOTIFY_WAIT_VAR))
SEND_TIMEOUT_S = 60
SEND_RETRIES = RetryPolicy(
    max_attempts=3, initial_interval_s=0.5, backoff_coefficient=2.0, max_interval_s=5.0
)
"""A send that fails for a reason that may pass (the server away, a 4xx answer) is tried
three times in all, 0.5 s then 1 s apart; then its recipient counts as failed."""


@blueprint.handler(start=True)
async def check(initial_data: dict[str, Any], actions: Actions) -> None:
    try:
        given = validate_input(initial_data)
    except FieldProblem as problem:
        actions.fail(problem.code, problem.message)
        return
    where = {"task_uuid": given.task_uuid, "is_call": given.is_call}
    # New answers are stored first; both tasks answer the audit, scored, as ``audit``.
    if given.audit is None:
        task, params = "audit.load", where
    else:
        task = "audit.update"
        params = {**where, "audit": list(given.audit), "updated_by": given.actor}
    actions.dispatch_task(task, params, transitions={"success": "send"}, timeout=STORE_TIMEOUT_S)


@blueprint.handler()
async def send(initial_data: dict[str, Any], audit: dict[str, Any], actions: Actions) -> None:
    given = validate_input(initial_data)  # checked by ``check``; read again, not trusted
    to = mail.recipients(audit)
    if not to:
        actions.fail("NO_RECIPIENTS", f"audit {given.task_uuid} has no operator or supervisor")
        return
    what = kind(given.is_call)
    message = {
        "subject": mail.subject(what, given.task_uuid),
        "text": mail.body(what, given.task_uuid, given.notes, audit),
        "attachments": list(given.attachments),
    }
    actions.dispatch_parallel(
        [
            {
                "task_type": "email.send",
                "params": {**message, "to": address},
                "timeout": SEND_TIMEOUT_S,
                "retry_policy": SEND_RETRIES,
            }
            for address in to
        ],
        aggregate_into="sent",
        failure_policy="collect",
    )


@blueprint.handler()
async def sent(
    initial_data: dict[str, Any],
    audit: dict[str, Any],
    parallel_results: list[dict[str, Any]],
    actions: Actions,
) -> None:
    # Branches come back in the order dispatched: one per recipient of ``send``.
    failed = [
        f"{address} ({_reason(r)})"
        for address, r in zip(mail.recipients(audit), parallel_results, strict=True)
        if r["status"] != "success"
    ]
    if failed:
        actions.fail("EMAIL_SEND_ERROR", f"could not send the e-mail to {'; '.join(failed)}")
        return
    given = validate_input(initial_data)
    actions.dispatch_task(
        "audit.mark_validated",
        {
            "task_uuid": given.task_uuid,
            "is_call": given.is_call,
            "notes": given.notes,
            "validated_by": given.actor,
        },
        transitions={"success": "notify"},
        timeout=STORE_TIMEOUT_S,
    )


def _reason(branch: dict[str, Any]) -> str:
    error = branch.get("error") or {}
    return f"{error.get('code', branch['status'])}: {error.get('message', '')}".rstrip(": ")


@blueprint.handler()
async def notify(initial_data: dict[str, Any], audit: dict[str, Any], actions: Actions) -> None:
    given = validate_input(initial_data)
    user = (audit.get("operator") or {}).get("user_id")
    text = f"Auditoría de {kind(given.is_call)} {given.task_uuid} validada"
    params = notify_params(text, "success", user_id=user, is_global=not user)
    # The mail went out and the validation is recorded: a notification that cannot be
    # posted (refused, or no notifier in time) does not undo them, so the job ends validated
    # either way; its history says what became of the notification.
    actions.dispatch_task(
        NOTIFY,
        params,
        transitions={"success": "validated", "failure": "validated"},
        timeout=STORE_TIMEOUT_S,
        dispatch_timeout=NOTIFY_DISPATCH_TIMEOUT_S,
        catch={
            "DISPATCH_TIMEOUT": "validated",
            "EXECUTION_TIMEOUT": "validated",
            "HEARTBEAT_TIMEOUT": "validated",
        },
    )


@blueprint.handler(end=True)
async def validated(
    initial_data: dict[str, Any], results: dict[str, Any], validated_at: str
) -> dict[str, Any]:
    given = validate_input(initial_data)
    branches = [r["data"] for r in results["send"]]
    bcc: list[str] = []
    for data in branches:
        bcc += [a for a in data.get("bcc", []) if a not in bcc]
    return {
        "success": True,
        "code": "OK",
        "details": {
            "type": kind(given.is_call),
            "task_uuid": given.task_uuid,
            "sent_to": [data["to"] for data in branches],
            "bcc": bcc,
            "validated_at": validated_at,
        },
    }
