"""Acting on a waiting human step: decide, reassign, escalate now.

Each action reads the job, checks the request against the step, and stores one engine step
through the runner's compare-and-set; when another process changed the job meanwhile it reads
again and checks again. So of two decisions sent at once to two processes, one is stored and
the other is answered 409 with the winner's name, never both.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from orchestrator.engine import human
from orchestrator.engine.effects import Effects
from orchestrator.engine.human_spec import fields_for
from orchestrator.engine.model import JSON, Job, JobStatus
from orchestrator.engine.schema import violations
from orchestrator.errors import BadRequest, Conflict, Forbidden, NotFound
from orchestrator.shell.jobs import MAX_CONFLICTS, JobRunner, contention
from orchestrator.views import iso


@dataclass(frozen=True)
class Decision:
    decision: object
    actor: str | None = None
    actor_roles: list[str] | None = None
    notes: str | None = None
    data: JSON = field(default_factory=dict)
    state: str | None = None
    """The step the person saw (the inbox's ``state``): refused if the job has moved on."""


async def _load(runner: JobRunner, job_id: str, client: str | None) -> Job:
    if client is not None:
        return await runner.get(job_id, client)
    job = await runner.store.load(job_id)
    if job is None:
        raise NotFound(f"no job {job_id}", code="JOB_NOT_FOUND")
    return job


def not_waiting(job: Job) -> Conflict:
    details: JSON = {"status": job.status.value, "state": job.state}
    last = human.last_decision(job)
    message = f"job {job.id} is not waiting for a human decision; it is {job.status.value}"
    if last is not None:
        at = last.get("at")
        # the history keeps Unix seconds; the API writes every time as ISO 8601
        details["decision"] = {**last, "at": iso(float(at)) if at is not None else None}
        who = f" by {last['actor']}" if last.get("actor") else ""
        message += f" (decision {last['decision']!r} taken{who})"
    return Conflict(message, code="NOT_WAITING_FOR_HUMAN", details=details)


def _waiting(job: Job) -> JSON:
    if job.status != JobStatus.WAITING_FOR_HUMAN or job.human is None:
        raise not_waiting(job)
    return job.human


def _check(runner: JobRunner, job: Job, step: JSON, body: Decision, token: str | None) -> str:
    """The decision, once every check passed; raises the first that fails."""
    if token is not None:
        expected = runner.approval_token(job) or ""
        if not token or not hmac.compare_digest(token.encode(), expected.encode()):
            raise Forbidden(
                "missing or wrong approval token for this step", code="INVALID_APPROVAL_TOKEN"
            )
    if body.state is not None and body.state != step["state"]:
        raise Conflict(
            f"job {job.id} now waits in step {step['state']!r}, not {body.state!r}",
            code="STEP_CHANGED",
            details={"status": job.status.value, "state": step["state"]},
        )
    role = step.get("role")
    if role and body.actor_roles is not None and role not in body.actor_roles:
        raise Forbidden(
            f"this step is for role {role!r}, which the actor does not have",
            code="ROLE_MISMATCH",
            details={"role": role, "actor_roles": body.actor_roles},
        )
    allowed = sorted(step["decisions"])
    decision = body.decision
    if not isinstance(decision, str) or decision not in allowed:
        raise BadRequest(
            f"decision must be one of: {', '.join(allowed)}",
            code="INVALID_DECISION",
            details={"allowed": allowed, "field": "decision"},
        )
    _check_fields(step, decision, body)
    if runner.blueprint_of(job) is None:
        bp = runner.registry.get(job.blueprint)
        raise Conflict(
            f"job {job.id} runs {job.blueprint} version {job.blueprint_version}, which this "
            f"orchestrator no longer serves ({'version ' + bp.version if bp else 'none'}); "
            "the decision was not taken and the job still waits",
            code="BLUEPRINT_CHANGED",
            details={"status": job.status.value, "state": job.state},
        )
    return decision


def _check_fields(step: JSON, decision: str, body: Decision) -> None:
    fields = fields_for(step.get("fields") or {}, decision)
    given: JSON = dict(body.data)
    if body.notes is not None:
        given["notes"] = body.notes
    for name, spec in sorted(fields.items()):
        where = "notes" if name == "notes" else f"data.{name}"
        if name not in given:
            if spec.get("required"):
                raise _invalid(where, f"required for decision {decision!r}")
            continue
        schema = {k: v for k, v in spec.items() if k not in ("required", "description")}
        broken = violations(given[name], schema, where)
        if broken:
            raise _invalid(where, "; ".join(broken))


def _invalid(name: str, problem: str) -> BadRequest:
    message = problem if problem.startswith(name) else f"{name}: {problem}"
    return BadRequest(message, code="VALIDATION_ERROR", details={"field": name})


async def decide(
    runner: JobRunner, job_id: str, body: Decision, *, client: str | None, token: str | None
) -> Job:
    """``client``: the owning client's API; ``token``: the approval webhook (client None)."""
    via = "webhook" if token is not None else "api"
    for _ in range(MAX_CONFLICTS):
        job = await _load(runner, job_id, client)
        step = _waiting(job)
        decision = _check(runner, job, step, body, token)

        def change(j: Job, now: float, decision: str = decision) -> Job:
            return human.decide(
                j,
                decision,
                now,
                actor=body.actor,
                actor_roles=body.actor_roles,
                notes=body.notes,
                data=body.data,
                via=via,
            )

        if await runner.step(job, change):
            return job
    raise contention(job_id)


async def reassign(
    runner: JobRunner,
    job_id: str,
    client: str,
    *,
    role: str | None,
    assignee: str | None,
    actor: str | None,
    notes: str | None,
) -> Job:
    for _ in range(MAX_CONFLICTS):
        job = await _load(runner, job_id, client)
        _waiting(job)

        def change(j: Job, now: float) -> Job:
            return human.reassign(j, now, role=role, assignee=assignee, actor=actor, notes=notes)

        if await runner.step(job, change):
            return job
    raise contention(job_id)


async def escalate_now(
    runner: JobRunner, job_id: str, client: str, *, actor: str | None, reason: str | None
) -> int:
    """Go to the step's next escalation level now; returns that level."""
    for _ in range(MAX_CONFLICTS):
        job = await _load(runner, job_id, client)
        step = _waiting(job)
        level = human.next_level(job)
        if level is None:
            levels = len(step.get("escalations") or [])
            raise Conflict(
                f"job {job_id} has no escalation level left (it has {levels}, at level "
                f"{step.get('level', 0)})",
                code="NO_ESCALATION_LEFT",
                details={"level": step.get("level", 0), "levels": levels},
            )

        def change(j: Job, now: float, level: int = level) -> tuple[Job, Effects]:
            return human.escalate(j, level, now, actor=actor, reason=reason, manual=True)

        if await runner.step(job, change):
            return level
    raise contention(job_id)
