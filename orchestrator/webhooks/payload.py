"""The JSON body of a webhook delivery (``docs/webhooks.md`` shows each kind)."""

from __future__ import annotations

from orchestrator.engine.model import JSON, Job, JobStatus
from orchestrator.views import iso, job_view
from orchestrator.webhooks.outbox import Entry


def body(job: Job, entry: Entry, event: JSON, approval_token: str | None) -> JSON:
    """What is sent for ``entry``: taken from the history ``event`` it names, so a delivery
    made late still tells what happened then; ``job`` adds the result and the approval."""
    status = entry.status.value
    doc: JSON = {
        "event": f"job.{status}",
        "webhook_id": entry.webhook_id,
        "job_id": job.id,
        "blueprint": job.blueprint,
        "status": status,
        "timestamp": iso(float(event["at"])),
    }
    if entry.status == JobStatus.FINISHED:
        doc["result"] = job.result  # a finished job never changes again
    else:
        doc["error"] = event.get("error")
    if entry.status == JobStatus.WAITING_FOR_HUMAN:
        # ``check`` made sure the job is still in this very wait, so the token is this wait's
        doc["approval"] = job_view(job, approval_token)["approval"]
    return doc
