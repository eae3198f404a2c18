"""Seed-003 validation: each problem found, with its path, and all of them at once."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.workflows import seed
from tests.workflows.seeds import IT_SUPPORT, REVIEWED, variant


def problems(doc: Any, taken: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    with pytest.raises(seed.SeedInvalid) as caught:
        seed.read(doc, taken=taken)
    return caught.value.problems


def paths(doc: Any, taken: tuple[str, ...] = ()) -> list[str]:
    return [path for path, _ in problems(doc, taken)]


def test_the_seeds_example_reads_as_a_workflow() -> None:
    wf = seed.read(IT_SUPPORT)

    assert wf.name == "IT Support Request"
    assert [n.name for n in wf.nodes] == ["Triage", "Resolution"]
    assert wf.start.temp_id == "node_1"
    assert wf.slas == {"Low": 72 * 3600, "Medium": 48 * 3600, "High": 24 * 3600, "Urgent": 4 * 3600}
    assert wf.nodes[0].role == "2"


def test_a_loop_back_is_a_valid_graph() -> None:
    wf = seed.read(REVIEWED)

    assert [e.name for e in wf.out("v")] == ["Reopen", "Approve"]


def test_no_start_node() -> None:
    doc = variant(IT_SUPPORT)
    doc["graph"]["nodes"][0]["is_start"] = False

    assert "graph.nodes" in paths(doc)
    assert any("no start node" in m for _, m in problems(doc))


def test_several_start_nodes_name_the_extra_one() -> None:
    doc = variant(IT_SUPPORT)
    doc["graph"]["nodes"][1]["is_start"] = True

    assert paths(doc) == ["graph.nodes[1].is_start"]


def test_an_unreachable_node() -> None:
    doc = variant(IT_SUPPORT)
    doc["graph"]["nodes"].append(
        {"temp_id": "lost", "name": "Lost", "role_id": 1, "weight": 0.1, "is_end": True}
    )

    found = problems(doc)
    assert found == [
        ("graph.nodes[2]", "node 'lost' cannot be reached from the start node 'node_1'")
    ]


def test_an_edge_to_an_unknown_node() -> None:
    doc = variant(IT_SUPPORT)
    doc["graph"]["edges"][0]["to_temp_id"] = "node_9"

    assert "graph.edges[0].to_temp_id" in paths(doc)


def test_duplicate_temp_ids() -> None:
    doc = variant(IT_SUPPORT)
    doc["graph"]["nodes"][1]["temp_id"] = "node_1"

    assert "graph.nodes[1].temp_id" in paths(doc)


def test_duplicate_edge_names_out_of_one_node() -> None:
    doc = variant(REVIEWED)
    doc["graph"]["edges"][1]["name"] = "Assign"

    assert paths(doc) == ["graph.edges[1].name"]


def test_the_same_edge_name_out_of_two_nodes_is_fine() -> None:
    doc = variant(REVIEWED)
    doc["graph"]["edges"][4]["name"] = "Assign"

    assert seed.read(doc).out("v")[1].name == "Assign"


def test_an_end_node_with_outgoing_edges() -> None:
    doc = variant(IT_SUPPORT)
    doc["graph"]["edges"].append({"from_temp_id": "node_2", "to_temp_id": "node_1", "name": "Back"})

    assert paths(doc) == ["graph.nodes[1].is_end"]


def test_a_non_end_node_without_outgoing_edges() -> None:
    doc = variant(IT_SUPPORT)
    doc["graph"]["nodes"].append({"temp_id": "dead", "name": "Dead", "role_id": 1, "weight": 0.1})
    doc["graph"]["edges"].append({"from_temp_id": "node_1", "to_temp_id": "dead", "name": "Park"})

    assert paths(doc) == ["graph.nodes[2]"]


@pytest.mark.parametrize("sla", ["24:00", "1 day", "00:60:00", "-1:00:00", "00:00:00", 3600, ""])
def test_an_sla_that_is_not_hh_mm_ss(sla: object) -> None:
    doc = variant(IT_SUPPORT)
    doc["workflow"]["high_sla"] = sla

    assert paths(doc) == ["workflow.high_sla"]


def test_hours_may_exceed_24() -> None:
    assert seed.parse_sla("72:00:00") == 72 * 3600
    assert seed.parse_sla("100:30:15") == 100 * 3600 + 30 * 60 + 15


@pytest.mark.parametrize("weight", [0, -0.5, 1.5, "0.3", True, None])
def test_weights_not_in_zero_one(weight: object) -> None:
    doc = variant(IT_SUPPORT)
    doc["graph"]["nodes"][0]["weight"] = weight

    assert paths(doc) == ["graph.nodes[0].weight"]


def test_a_name_clashing_with_a_code_blueprint() -> None:
    assert paths(IT_SUPPORT, taken=("it-support-request",)) == ["workflow.name"]


def test_unknown_fields_are_named() -> None:
    doc = variant(IT_SUPPORT)
    doc["graph"]["nodes"][0]["wieght"] = 0.3

    assert paths(doc) == ["graph.nodes[0].wieght"]


def test_a_role_that_cannot_be_a_role_name() -> None:
    doc = variant(IT_SUPPORT)
    doc["graph"]["nodes"][0]["role_id"] = "IT {support}"
    doc["graph"]["nodes"][1]["escalate_to"] = 1.5

    assert paths(doc) == ["graph.nodes[0].role_id", "graph.nodes[1].escalate_to"]


def test_every_problem_is_listed_at_once() -> None:
    doc = variant(REVIEWED)
    doc["workflow"]["low_sla"] = "soon"
    doc["graph"]["nodes"][1]["weight"] = 0
    doc["graph"]["nodes"][2]["temp_id"] = "t"
    doc["graph"]["edges"][2]["to_temp_id"] = "nowhere"

    found = paths(doc, taken=("reviewed-incident",))
    assert found == [
        "workflow.name",
        "workflow.low_sla",
        "graph.nodes[1].weight",
        "graph.nodes[2].temp_id",
        "graph.edges[2].to_temp_id",
        "graph.edges[3].from_temp_id",
        "graph.edges[4].from_temp_id",
    ]


@pytest.mark.parametrize("doc", [None, [], {"workflow": {"name": "x"}}, {"graph": {}}])
def test_shapes_that_are_not_a_workflow(doc: object) -> None:
    assert problems(doc)


def test_is_seed_tells_a_workflow_from_a_yaml_blueprint() -> None:
    assert seed.is_seed(IT_SUPPORT)
    assert not seed.is_seed({"blueprint": "x", "states": {}})


def test_missing_node_fields_are_named() -> None:
    doc = variant(IT_SUPPORT)
    del doc["graph"]["nodes"][0]["weight"]
    del doc["graph"]["nodes"][1]["role_id"]

    assert paths(doc) == ["graph.nodes[0].weight", "graph.nodes[1].role_id"]
