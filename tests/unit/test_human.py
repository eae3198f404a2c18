"""engine/human.py, engine/human_spec.py and human/index.py: human steps from records in to
records (and inbox index writes) out."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.engine import human, machine
from orchestrator.engine.actions import ActionError, Actions, AwaitHuman
from orchestrator.engine.model import Job, JobStatus
from orchestrator.human import index
from tests.builders import NOW, STATES, new_job

LATER = NOW + 60


def ask(**options: Any) -> AwaitHuman:
    actions = Actions()
    actions.await_human({"approve": "done", "reject": "rejected"}, **options)
    chosen = actions.chosen
    assert isinstance(chosen, AwaitHuman)
    return chosen


def waiting(**options: Any) -> tuple[Job, Any]:
    job, _ = machine.start(new_job(), NOW)
    return machine.enter(job, STATES, ask(**options), NOW)


def test_a_human_step_records_who_it_is_for_and_arms_its_timers() -> None:
    job, effects = waiting(
        role="compliance",
        assignee="ana",
        title="Alert 7",
        due_in=300,
        timeout=3600,
        on_timeout="rejected",
        escalations=[{"after": 600, "to_role": "boss"}, {"after": 900, "notify": {"t": 1}}],
        summary={"order": 7},
    )

    assert job.status == JobStatus.WAITING_FOR_HUMAN
    step = job.human
    assert step is not None
    assert (step["role"], step["assignee"], step["title"]) == ("compliance", "ana", "Alert 7")
    assert (step["created"], step["due"], step["level"], step["seq"]) == (NOW, NOW + 300, 0, 1)
    assert step["summary"] == {"order": 7}
    assert sorted(effects.timers) == [
        ("escalate|job-1|1|1", NOW + 600),
        ("escalate|job-1|1|2", NOW + 900),
        ("human|job-1|start|1", NOW + 3600),
    ]
    event = job.history[-1]
    assert event["type"] == "human_waiting"
    assert (event["role"], event["due"], event["decisions"]) == (
        "compliance",
        NOW + 300,
        ["approve", "reject"],
    )


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"role": "has space"}, "role must be"),
        ({"role": "{slot}"}, "role must be"),
        ({"assignee": 17}, "assignee must be"),
        ({"due_in": -1}, "due_in must be"),
        ({"due_in": "soon"}, "due_in must be"),
        ({"escalations": [{"to_role": "x"}]}, "escalations[0].after is required"),
        ({"escalations": [{"after": 1, "when": 2}]}, "unknown key 'when'"),
        ({"escalations": {"after": 1}}, "escalations must be a list"),
        ({"fields": {"notes": {"type": "string", "for": ["maybe"]}}}, "must list decisions"),
        ({"fields": {"notes": {"kind": "string"}}}, "unknown key 'kind'"),
        ({"summary": [1]}, "summary must be a mapping"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_human_step_is_refused_naming_the_argument(
    options: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ActionError) as caught:
        ask(**options)
    assert caught.value.code == "INVALID_ACTION"
    assert problem in caught.value.message


def test_a_decision_carries_who_and_why_to_the_next_state() -> None:
    job, _ = waiting(role="compliance")
    job = job.evolve(context={"notes": "stale notes of an earlier step"})

    decided = human.decide(
        job,
        "approve",
        LATER,
        actor="u-1",
        actor_roles=["compliance"],
        data={"amount": 5},
    )

    assert (decided.status, decided.state, decided.human) == (JobStatus.RUNNING, "done", None)
    assert decided.context["decided_by"] == "u-1"
    assert decided.context["notes"] is None  # this decision had none
    assert decided.context["amount"] == 5 and decided.context["decision_data"] == {"amount": 5}
    assert decided.results["start"]["decision"] == "approve"
    event = next(e for e in decided.history if e["type"] == "human_decided")
    assert (event["actor"], event["role"], event["waited_s"]) == ("u-1", "compliance", 60.0)


def test_escalation_reassigns_starts_a_notice_and_keeps_waiting() -> None:
    job, _ = waiting(
        role="agent",
        assignee="ana",
        escalations=[{"after": 1, "to_role": "lead", "notify": {"text": "late"}}, {"after": 2}],
    )
    assert human.next_level(job) == 1
    assert human.escalation_due(job, "1", "1") and not human.escalation_due(job, "1", "2")

    escalated, effects = human.escalate(job, 1, LATER)

    assert escalated.status == JobStatus.WAITING_FOR_HUMAN
    step = escalated.human
    assert step is not None
    # a new role drops the assignee: the person was chosen for the old role
    assert (step["role"], step["assignee"], step["level"]) == ("lead", None, 1)
    ((child_id, blueprint, data),) = effects.children
    assert blueprint == human.NOTIFY_BLUEPRINT and data["params"] == {"text": "late"}
    again, _ = human.escalate(job, 1, LATER + 1)  # the same step again: the same notice job
    event = again.history[-1]
    assert (event["type"], event["notify_job_id"]) == ("escalated", child_id)
    assert not human.escalation_due(escalated, "1", "1")  # fired: a second firing is a no-op
    assert human.escalation_due(escalated, "1", "2")
    assert human.next_level(escalated) == 2


def test_reassignment_keeps_the_role_unless_given() -> None:
    job, _ = waiting(role="agent")
    moved = human.reassign(job, LATER, role=None, assignee="bob", actor="lead", notes="vacation")
    assert moved.human is not None
    assert (moved.human["role"], moved.human["assignee"]) == ("agent", "bob")
    assert moved.history[-1]["type"] == "reassigned"


def test_the_inbox_index_follows_the_step_and_cancels_its_timers() -> None:
    before, _ = machine.start(new_job(), NOW)
    placed, _ = machine.enter(
        before, STATES, ask(role="agent", due_in=10, escalations=[{"after": 5}]), NOW
    )
    placed = placed.evolve(rev=1)
    stored, change = index.change("p", "p:{timers}:due", before, placed)
    assert change is not None and stored.human is not None
    assert stored.human["rev"] == 1
    keys = {key for key, _, _ in change.adds}
    assert keys == {"p:{h:client-a}:all", "p:{h:client-a}:role:agent", "p:{h:client-a}:bp:bp"}
    assert {m for _, m, _ in change.adds} == {"job-1|1"}
    assert {at for _, _, at in change.adds} == {int((NOW + 10) * 1000)}
    assert [e["type"] for e in change.events] == ["added"]

    moved = human.reassign(stored, LATER, role="lead", assignee=None, actor=None, notes=None)
    moved_stored, change = index.change("p", "p:{timers}:due", stored, moved.evolve(rev=2))
    assert change is not None and moved_stored.human is not None
    assert ("p:{h:client-a}:role:agent", "job-1|1") in change.removes
    assert ("p:{h:client-a}:role:lead", "job-1|2", int((NOW + 10) * 1000)) in change.adds
    assert change.timers == []  # still the same wait: its escalations stay armed
    assert [e["type"] for e in change.events] == ["updated"]

    decided = human.decide(moved_stored, "approve", LATER).evolve(rev=3)
    _, change = index.change("p", "p:{timers}:due", moved_stored, decided)
    assert change is not None and change.adds == []
    assert ("p:{h:client-a}:all", "job-1|2") in change.removes
    assert change.timers == ["escalate|job-1|1|1"]
    assert [e["type"] for e in change.events] == ["removed"]


def test_a_step_without_a_due_time_sorts_after_every_due_one_by_age() -> None:
    assert index.score({"due": None, "created": 5.0}) == index.NO_DUE_MS + 5000
    assert index.score({"due": 9e9, "created": 5.0}) < index.NO_DUE_MS
