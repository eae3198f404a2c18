"""Waits that hold no worker: a human decision, a child job."""

from __future__ import annotations

import uuid
from typing import Any

from orchestrator.engine.actions import AwaitHuman, RunBlueprint
from orchestrator.engine.effects import Effects
from orchestrator.engine.events import record
from orchestrator.engine.model import Job, JobStatus

_CHILD_IDS = uuid.UUID("6f1c2a52-3c1e-4c55-9a57-5a3bb6a1d0c7")


def await_human(job: Job, action: AwaitHuman, now: float) -> tuple[Job, Effects]:
    from orchestrator.engine.machine import timer_member

    effects = Effects()
    seq = job.task_seq + 1
    deadline = now + action.timeout_s if action.timeout_s else None
    human = {
        "state": job.state,
        "decisions": action.decisions,
        "deadline": deadline,
        "on_timeout": action.on_timeout,
        "seq": seq,
    }
    if deadline is not None:
        effects.timers.append((timer_member("human", job.id, job.state, seq), deadline))
    job = job.evolve(status=JobStatus.WAITING_FOR_HUMAN, human=human, task_seq=seq, updated_at=now)
    job = record(
        job,
        now,
        "waiting_for_human",
        state=job.state,
        decisions=sorted(action.decisions),
        deadline=deadline,
    )
    return job, effects


def decide(job: Job, decision: str, now: float, **extra: Any) -> Job:
    """A person decided; the caller checked the decision is one of ``job.human``'s."""
    from orchestrator.engine.machine import moved

    human = job.human
    assert human is not None
    target = human["decisions"][decision]
    payload = {"decision": decision, **extra}
    job = record(job, now, "approval", state=job.state, decision=decision)
    return moved(
        job.evolve(human=None),
        target,
        now,
        results={**job.results, job.state: payload},
        context={**job.context, **payload},
    )


def human_timed_out(job: Job, now: float) -> Job:
    from orchestrator.engine.machine import fail, moved

    human = job.human
    assert human is not None
    job = record(job, now, "timeout", kind="human", state=job.state)
    target = human["on_timeout"]
    if target is None:
        return fail(job, "HUMAN_TIMEOUT", f"no decision on {job.state!r} in time", now)
    payload = {"decision": None, "timed_out": True}
    return moved(
        job.evolve(human=None),
        target,
        now,
        results={**job.results, job.state: payload},
        context={**job.context, **payload},
    )


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
    from orchestrator.engine.machine import end, error, fail, moved

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
