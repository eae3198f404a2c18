"""The ticket workflows shipped in ``orchestrator/blueprints/workflows/``."""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestrator.blueprints import tickets
from orchestrator.intake.specs import load_blueprints
from orchestrator.workflows.build import build
from tests.workflows.conftest import Cluster
from tests.workflows.seeds import IT_SUPPORT

FOLDER = Path(tickets.__file__).parent / "workflows"


def test_the_it_support_file_is_the_seeds_example() -> None:
    shipped = yaml.safe_load((FOLDER / "it_support_request.workflow.yaml").read_text())

    assert shipped == IT_SUPPORT
    assert tickets.it_support_request.version == build(IT_SUPPORT).blueprint.version


def test_incident_review_branches_and_loops_back() -> None:
    states = tickets.incident_review.states

    assert states["Triage"].targets == {"Resolution", "Closed"}
    assert states["Review"].targets == {"Resolution", "Closed"}
    assert states["Resolution"].targets == {"Review"}


def test_the_folder_serves_as_a_blueprints_path_too() -> None:
    loaded = load_blueprints([str(FOLDER)])

    assert sorted(b.name for b in loaded) == ["incident-review", "it-support-request"]


async def test_a_shipped_workflow_takes_a_ticket_round_its_loop(cluster: Cluster) -> None:
    a = await cluster.orchestrator(blueprints="orchestrator.blueprints.tickets")
    ticket = {"subject": "Printer jams", "priority": "Low", "employee": {"id": 7}}
    job_id = await a.start("/api/v1/incident-review", ticket)
    for state, decision in [
        ("Triage", "Assign"),
        ("Resolution", "Resolved"),
        ("Review", "Reopen"),
        ("Resolution", "Resolved"),
        ("Review", "Approve"),
        ("Closed", "complete"),
    ]:
        waiting = await a.waiting_in(job_id, state)
        assert waiting["approval"]["decisions"]
        await a.decide(job_id, decision, "pat", "")
    job = await a.ended(job_id)

    assert job["status"] == "finished", job
    assert [p["decision"] for p in job["result"]["path"]] == [
        "Assign",
        "Resolved",
        "Reopen",
        "Resolved",
        "Approve",
        "complete",
    ]
    status, listed = await a.call("GET", "/api/v1/blueprints")
    assert {b["name"]: b["source"] for b in listed}["incident-review"] == "file"
    bad = await a.call("POST", "/api/v1/incident-review", {"initial_data": {"subject": "x"}})
    assert bad[0] == 202
    failed = await a.ended(bad[1]["job_id"])
    assert failed["error"]["code"] == "INVALID_TICKET"


def test_a_broken_workflow_file_is_a_blueprint_error_naming_the_path(tmp_path: Path) -> None:
    import pytest

    from orchestrator.errors import BlueprintError

    text = (FOLDER / "it_support_request.workflow.yaml").read_text()
    broken = tmp_path / "broken.workflow.yaml"
    broken.write_text(text.replace("weight: 0.7", "weight: 7"))

    with pytest.raises(BlueprintError) as caught:
        load_blueprints([str(broken)])
    assert caught.value.problems == [
        f"{broken}: graph.nodes[1].weight: must be a number in (0, 1], not 7"
    ]
