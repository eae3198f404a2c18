"""The compiler: nodes become human steps, edges decisions, weights shares of the SLA."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.blueprint.yaml_loader import load_yaml
from orchestrator.workflows import seed
from orchestrator.workflows.build import build, document_text
from orchestrator.workflows.compile import HUMAN_OPTIONS, compile_workflow, due_seconds
from tests.workflows.seeds import IT_SUPPORT, REVIEWED, variant

ALL = frozenset(("decisions", *HUMAN_OPTIONS))


def human(state: dict[str, Any], priority_index: int = -1) -> dict[str, Any]:
    """The await_human arguments of a compiled step (the default handler's, if guarded)."""
    if "action" in state:
        return dict(state["action"]["await_human"])
    return dict(state["handlers"][priority_index]["action"]["await_human"])


def test_each_node_is_a_human_step_whose_decisions_are_its_edges() -> None:
    compiled = compile_workflow(seed.read(REVIEWED), options=ALL)
    states = compiled.document["states"]

    assert list(states) == ["received", "Triage", "Resolution", "Review", "Closed", "closed"]
    assert human(states["Triage"])["decisions"] == {"Assign": "Resolution", "Duplicate": "Closed"}
    assert human(states["Review"])["decisions"] == {"Reopen": "Resolution", "Approve": "Closed"}
    assert human(states["Triage"])["role"] == "2"
    assert human(states["Triage"])["title"] == "Triage"
    assert compiled.steps == {"t": "Triage", "r": "Resolution", "v": "Review", "c": "Closed"}


def test_transitions_are_numbered_edges_first_in_graph_order_then_each_end_complete() -> None:
    compiled = compile_workflow(seed.read(REVIEWED), options=ALL)

    numbered = {
        step: [(t.id, t.name, t.to) for t in moves] for step, moves in compiled.transitions.items()
    }

    assert numbered == {
        "Triage": [(1, "Assign", "Resolution"), (2, "Duplicate", "Closed")],
        "Resolution": [(3, "Resolved", "Review")],
        "Review": [(4, "Reopen", "Resolution"), (5, "Approve", "Closed")],
        "Closed": [(6, "complete", "closed")],
    }


def test_an_end_node_has_one_decision_complete_that_closes_the_ticket() -> None:
    compiled = compile_workflow(seed.read(REVIEWED), options=ALL)
    states = compiled.document["states"]

    assert human(states["Closed"])["decisions"] == {"complete": "closed"}
    assert states["closed"]["end"] is True
    assert states["received"]["start"] is True


def test_due_times_are_weight_shares_of_the_priority_sla_scaled_to_sum_one() -> None:
    due = due_seconds(seed.read(REVIEWED))  # weights 0.2 0.4 0.2 0.1: sum 0.9

    assert due["High"]["Resolution"] == pytest.approx(12 * 3600 * 0.4 / 0.9, abs=0.001)
    assert due["Urgent"]["Triage"] == pytest.approx(2 * 0.2 / 0.9, abs=0.001)
    assert sum(v or 0 for v in due["Low"].values()) == pytest.approx(96 * 3600, abs=0.01)


def test_weights_summing_to_one_are_taken_as_they_are() -> None:
    due = due_seconds(seed.read(IT_SUPPORT))

    assert due["Urgent"] == {"Triage": 0.3 * 4 * 3600, "Resolution": 0.7 * 4 * 3600}


def test_priority_picks_the_due_time_and_a_breach_escalates_to_escalate_to() -> None:
    states = compile_workflow(seed.read(REVIEWED), options=ALL).document["states"]
    handlers = states["Triage"]["handlers"]

    assert [h.get("when", {}).get("value") for h in handlers] == ["Low", "Medium", "High", None]
    urgent = handlers[-1]["action"]["await_human"]
    assert urgent["due_in"] == pytest.approx(0.444, abs=0.001)
    [escalation] = urgent["escalations"]
    assert escalation["after"] == urgent["due_in"]
    assert escalation["to_role"] == "5"
    assert "Triage" in escalation["notify"]["text"]
    assert escalation["notify"]["text"].endswith("escalated to role 5")
    # a role is no user: the notice goes to everyone (else the notifier refuses it)
    assert escalation["notify"]["is_global"] is True


def test_a_step_without_escalate_to_still_notifies() -> None:
    states = compile_workflow(seed.read(REVIEWED), options=ALL).document["states"]
    [escalation] = human(states["Review"])["escalations"]

    assert "to_role" not in escalation
    assert escalation["notify"]["is_global"] is True


def test_a_priority_without_an_sla_has_no_due_time() -> None:
    doc = variant(IT_SUPPORT)
    del doc["workflow"]["low_sla"]
    states = compile_workflow(seed.read(doc), options=ALL).document["states"]

    assert "due_in" not in human(states["Triage"], 0)
    assert "due_in" in human(states["Triage"], 1)


def test_options_the_loader_does_not_take_are_left_out() -> None:
    compiled = compile_workflow(seed.read(IT_SUPPORT), options=frozenset({"decisions"}))
    step = compiled.document["states"]["Triage"]

    assert step["action"] == {"await_human": {"decisions": {"Assign": "Resolution"}}}


def test_generated_states_step_aside_from_node_names() -> None:
    doc = variant(IT_SUPPORT)
    doc["graph"]["nodes"][1]["name"] = "closed"
    compiled = compile_workflow(seed.read(doc))

    assert compiled.closed == "closed_"
    assert human(compiled.document["states"]["closed"])["decisions"] == {"complete": "closed_"}


def test_the_compiled_document_loads_as_a_yaml_blueprint() -> None:
    built = build(REVIEWED)
    bp = built.blueprint

    assert bp.name == "reviewed-incident"
    assert bp.api_endpoint == "reviewed-incident"
    assert bp.start_state == "received"
    assert load_yaml(document_text(built.compiled.document)).version == bp.version


def test_the_version_follows_the_seed() -> None:
    base = build(REVIEWED).blueprint.version
    reweighted = variant(REVIEWED)
    reweighted["graph"]["nodes"][0]["weight"] = 0.3
    moved_id = variant(REVIEWED)
    moved_id["graph"]["nodes"][3]["temp_id"] = "closed-node"
    for edge in moved_id["graph"]["edges"]:
        if edge["to_temp_id"] == "c":
            edge["to_temp_id"] = "closed-node"

    assert build(reweighted).blueprint.version != base
    assert build(moved_id).blueprint.version != base  # temp_id_mapping differs
    assert build(variant(REVIEWED)).blueprint.version == base
