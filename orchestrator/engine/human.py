"""Human steps: waiting for a person, their decision, reassignment, escalation, timeout.

The wait is ``job.human``, a plain dict stored in the job document::

    state, decisions, seq, deadline, on_timeout      what the approval webhook already used
    role, assignee, title, instructions, fields      who it is for and what they read
    created, due, escalations, level, summary        the SLA and what the inbox shows
    rev                                              set by the commit (``human/index.py``)

Escalation timers (``escalate|job|seq|level``) are all armed when the wait begins; each one
acts only if the wait is still the same (``seq``) and still at the level before its own, so a
manual escalation, a decision or a timeout in between makes it a no-op. The commit that ends
the wait also removes them (``human/index.py``).
"""

from __future__ import annotations

import uuid

from orchestrator.engine.actions import AwaitHuman
from orchestrator.engine.effects import Effects
from orchestrator.engine.events import record
from orchestrator.engine.model import JSON, Job, JobStatus
from orchestrator.engine.steps import fail, moved, timer_member

NOTIFY_BLUEPRINT = "human_notify"
"""The internal blueprint that runs an escalation's ``notify`` task (``blueprint/internal.py``)."""

_NOTIFY_IDS = uuid.UUID("0b7f7a3e-6f4d-4f63-8f0e-2c1d6f9a4b11")


def escalation_timer(job_id: str, seq: int, level: int) -> str:
    return f"escalate|{job_id}|{seq}|{level}"


def await_human(job: Job, action: AwaitHuman, now: float) -> tuple[Job, Effects]:
    effects = Effects()
    seq = job.task_seq + 1
    spec = action.spec
    deadline = now + action.timeout_s if action.timeout_s else None
    due = now + spec.due_in_s if spec.due_in_s is not None else None
    human: JSON = {
        "state": job.state,
        "decisions": action.decisions,
        "deadline": deadline,
        "on_timeout": action.on_timeout,
        "seq": seq,
        "role": spec.role,
        "assignee": spec.assignee,
        "title": spec.title,
        "instructions": spec.instructions,
        "fields": spec.fields,
        "created": now,
        "due": due,
        "escalations": [e.doc() for e in spec.escalations],
        "level": 0,
        "summary": spec.summary,
    }
    if deadline is not None:
        effects.timers.append((timer_member("human", job.id, job.state, seq), deadline))
    for level, escalation in enumerate(spec.escalations, start=1):
        effects.timers.append((escalation_timer(job.id, seq, level), now + escalation.after_s))
    job = job.evolve(status=JobStatus.WAITING_FOR_HUMAN, human=human, task_seq=seq, updated_at=now)
    job = record(
        job,
        now,
        "human_waiting",
        state=job.state,
        decisions=sorted(action.decisions),
        deadline=deadline,
        role=spec.role,
        assignee=spec.assignee,
        title=spec.title,
        due=due,
    )
    return job, effects


def decide(
    job: Job,
    decision: str,
    now: float,
    *,
    actor: str | None = None,
    actor_roles: list[str] | None = None,
    notes: str | None = None,
    data: JSON | None = None,
    via: str = "api",
) -> Job:
    """A person decided; the caller checked the decision, the role and the fields."""
    human = job.human
    assert human is not None
    target = human["decisions"][decision]
    given = dict(data or {})
    waited = max(0.0, now - float(human.get("created") or now))
    job = record(
        job,
        now,
        "human_decided",
        state=job.state,
        decision=decision,
        actor=actor,
        actor_roles=actor_roles,
        notes=notes,
        data=given,
        role=human.get("role"),
        waited_s=round(waited, 3),
        via=via,
    )
    payload: JSON = {
        "decision": decision,
        "decided_by": actor,
        "decided_at": now,
        "notes": notes,
        "decision_data": given,
    }
    # the data's keys too, so a handler can ask for ``amount`` rather than dig in a dict;
    # the named keys win, and each is set (None when absent): context only grows, and a
    # stale ``notes`` from an earlier step must not look like this decision's
    return moved(
        job.evolve(human=None),
        target,
        now,
        results={**job.results, job.state: payload},
        context={**job.context, **given, **payload},
    )


def human_timed_out(job: Job, now: float) -> Job:
    human = job.human
    assert human is not None
    job = record(job, now, "timeout", kind="human", state=job.state)
    target = human["on_timeout"]
    if target is None:
        return fail(job, "HUMAN_TIMEOUT", f"no decision on {job.state!r} in time", now)
    payload = {"decision": None, "timed_out": True, "decided_by": None, "notes": None}
    return moved(
        job.evolve(human=None),
        target,
        now,
        results={**job.results, job.state: payload},
        context={**job.context, **payload},
    )


def reassign(
    job: Job,
    now: float,
    *,
    role: str | None,
    assignee: str | None,
    actor: str | None,
    notes: str | None,
    clear_assignee: bool = False,
) -> Job:
    """Move the waiting step to another role and/or person; the job keeps waiting."""
    human = job.human
    assert human is not None
    new_role = role if role is not None else human.get("role")
    new_assignee = None if clear_assignee else (assignee or human.get("assignee"))
    changed = {**human, "role": new_role, "assignee": new_assignee}
    job = job.evolve(human=changed, updated_at=now)
    return record(
        job,
        now,
        "reassigned",
        state=job.state,
        from_role=human.get("role"),
        to_role=new_role,
        from_assignee=human.get("assignee"),
        to_assignee=new_assignee,
        actor=actor,
        notes=notes,
    )


def next_level(job: Job) -> int | None:
    """The escalation level the step would go to next, or None when none is left."""
    human = job.human or {}
    level = int(human.get("level") or 0) + 1
    return level if level <= len(human.get("escalations") or []) else None


def escalate(
    job: Job,
    level: int,
    now: float,
    *,
    actor: str | None = None,
    reason: str | None = None,
    manual: bool = False,
) -> tuple[Job, Effects]:
    """Go to escalation ``level`` (1-based): reassign where it says, start its notify task.

    The job keeps waiting. The notify task runs in a job of its own (deterministic id, so a
    repeated step cannot start two), whose failure is no concern of this one. A ``manual``
    escalation's notice says who escalated and why instead of the level's text.
    """
    human = job.human
    assert human is not None
    effects = Effects()
    spec = human["escalations"][level - 1]
    role = spec.get("to_role") or human.get("role")
    assignee = spec.get("to_assignee") or (None if spec.get("to_role") else human.get("assignee"))
    notify_id = None
    if spec.get("notify") is not None:
        notify_id = str(uuid.uuid5(_NOTIFY_IDS, f"{job.id}:{human['seq']}:{level}"))
        params = dict(spec["notify"])
        if manual:
            params["text"] = _manual_notice(job, actor, reason, role, assignee)
        data: JSON = {
            "params": params,
            "job_id": job.id,
            "state": job.state,
            "level": level,
            "role": role,
            "assignee": assignee,
            "title": human.get("title"),
        }
        effects.children.append((notify_id, NOTIFY_BLUEPRINT, data))
    changed = {**human, "role": role, "assignee": assignee, "level": level}
    job = job.evolve(human=changed, updated_at=now)
    job = record(
        job,
        now,
        "escalated",
        state=job.state,
        level=level,
        from_role=human.get("role"),
        to_role=role,
        from_assignee=human.get("assignee"),
        to_assignee=assignee,
        actor=actor,
        reason=reason or ("manual" if manual else None),
        notify_job_id=notify_id,
    )
    return job, effects


def _manual_notice(
    job: Job, actor: str | None, reason: str | None, role: str | None, assignee: str | None
) -> str:
    # The level's declared text is written for a step left waiting past its time ("past its
    # High SLA"); said of a step someone escalated early, it would be untrue.
    human = job.human or {}
    text = f"{human.get('title') or job.state} (job {job.id}): escalated by {actor or 'hand'}"
    if reason:
        text += f": {reason}"
    if role != human.get("role"):
        text += f"; now for role {role}"
    if assignee and assignee != human.get("assignee"):
        text += f"; now assigned to {assignee}"
    return text


def escalation_due(job: Job, seq: str, level: str) -> bool:
    """Whether the timer ``escalate|job|seq|level`` should act on ``job`` now."""
    human = job.human
    if job.status != JobStatus.WAITING_FOR_HUMAN or human is None:
        return False
    return str(human["seq"]) == seq and int(human.get("level") or 0) == int(level) - 1


def last_decision(job: Job) -> JSON | None:
    """Who took the last decision, what and when (for a 409 to a late second decision)."""
    for event in reversed(job.history):
        if event.get("type") == "human_decided":
            return {
                "decision": event.get("decision"),
                "actor": event.get("actor"),
                "at": event.get("at"),
                "state": event.get("state"),
            }
    return None
