"""Waits that hold no worker: a child job here; a human decision in ``human.py``."""

from __future__ import annotations

import uuid

from orchestrator.engine.actions import RunBlueprint
from orchestrator.engine.effects import Effects
from orchestrator.engine.events import record
from orchestrator.engine.human import await_human, decide, human_timed_out
from orchestrator.engine.model import Job, JobStatus
from orchestrator.engine.steps import end, error, fail, moved

__all__ = ["await_human", "child_ended", "child_id", "decide", "human_timed_out", "run_child"]

_CHILD_IDS = uuid.UUID("6f1c2a52-3c1e-4c55-9a57-5a3bb6a1d0c7")


def child_id(parent_id: str, seq: int) -> str:
    """The same parent step always names the same child, so a retried step cannot start two."""
    return str(uuid.uuid5(_CHILD_IDS, f"{parent_id}:{seq}"))


def run_child(job: Job, action: RunBlueprint, now: float) -> tuple[Job, Effects]:
    effects = Effects()
    seq = job.task_seq + 1
    cid = child_id(job.id, seq)
    effects.children.append((cid, action.blueprint, action.initial_data))
    child = {
        "job_id": cid,
        "blueprint": action.blueprint,
        "transitions": action.transitions,
        "state": job.state,
    }
    job = job.evolve(status=JobStatus.WAITING_FOR_CHILD, child=child, task_seq=seq, updated_at=now)
    return record(job, now, "child_started", child_id=cid, blueprint=action.blueprint), effects


def child_ended(parent: Job, child: Job, now: float) -> tuple[Job, bool]:
    """The child reached a terminal status; returns (parent, entered a new state)."""
    waiting = parent.child
    assert waiting is not None
    status = child.status.value
    parent = record(parent, now, "child_ended", child_id=child.id, status=status)
    outcome = {"status": status, "result": child.result, "error": child.error}
    target = waiting["transitions"].get(status)
    base = parent.evolve(child=None)
    if target is not None:
        merged = child.result if isinstance(child.result, dict) else {}
        entered = moved(
            base,
            target,
            now,
            results={**parent.results, parent.state: outcome},
            context={**parent.context, **merged},
        )
        return entered, True
    if child.status == JobStatus.FINISHED:
        reason = error(
            "UNMAPPED_CHILD_STATUS",
            f"child {child.blueprint} finished but state {parent.state!r} maps only "
            f"{sorted(waiting['transitions'])}",
        )
        return end(base, JobStatus.QUARANTINED, now, error=reason), False
    code = (child.error or {}).get("code", status.upper())
    return fail(
        base,
        f"CHILD_{status.upper()}",
        f"child job ended {status}: {code}",
        now,
        child_id=child.id,
        child_error=child.error,
    ), False
