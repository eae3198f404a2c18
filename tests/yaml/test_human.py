"""YAML human steps decide what the same ``Actions.await_human`` call in Python decides, with
their texts, role, due time and escalations filled from the job's data."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from orchestrator.blueprint.yaml_loader import load_yaml
from orchestrator.engine.actions import Actions, AwaitHuman
from orchestrator.engine.inject import handler_kwargs
from orchestrator.engine.model import Job, JobStatus
from orchestrator.errors import BlueprintError
from tests.helpers import ROOT

TICKET = ROOT / "orchestrator" / "examples" / "human_ticket.yaml"


def _chosen(state: str, initial_data: dict[str, Any]) -> AwaitHuman:
    bp = load_yaml(TICKET)
    job = Job(
        id="job-1",
        blueprint=bp.name,
        blueprint_version=bp.version,
        client="c",
        status=JobStatus.RUNNING,
        state=state,
        created_at=0.0,
        updated_at=0.0,
        initial_data=initial_data,
    )
    actions = Actions()
    handler = bp.states[state].pick(job)
    asyncio.run(handler.func(**handler_kwargs(state, handler.params, job, actions)))
    assert isinstance(actions.chosen, AwaitHuman)
    return actions.chosen


def test_the_example_ticket_fills_its_steps_from_the_job() -> None:
    data = {"subject": "VPN down", "priority": "High", "specialist": "sam"}
    triage = _chosen("triage", data)
    assert triage.decisions == {"assign": "resolve", "close": "closed"}
    spec = triage.spec
    assert (spec.role, spec.title, spec.due_in_s) == ("agent", "Ticket: VPN down", 3600.0)
    assert spec.fields == {"notes": {"type": "string", "required": True, "for": ["close"]}}
    assert spec.summary == {"subject": "VPN down", "priority": "High"}
    (level,) = spec.escalations
    assert (level.after_s, level.to_role) == (3600.0, "agent-lead")
    assert level.notify == {"text": "triage of job-1 is late"}
    resolve = _chosen("resolve", data).spec
    assert (resolve.role, resolve.assignee, resolve.title) == (
        "specialist",
        "sam",
        "Resolve: VPN down",
    )


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        ("role: 7", "role must be"),
        ("escalations: [{to_role: x}]", "escalations[0].after is required"),
        ("fields: [notes]", "fields must be a mapping"),
        ("colour: red", "colour"),
        ("due_in: -5", "due_in must be"),
    ],
)
def test_a_bad_human_step_fails_at_load_naming_it(step: str, problem: str) -> None:
    text = f"""\
blueprint: bad
states:
  ask:
    start: true
    action:
      await_human:
        decisions: {{ok: done}}
        {step}
  done: {{end: true}}
"""
    with pytest.raises(BlueprintError) as caught:
        load_yaml(text)
    assert problem in str(caught.value)
