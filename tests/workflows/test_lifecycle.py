"""A registered workflow's life: refused when broken, new versions beside running tickets,
retirement, and an SLA that escalates while the ticket keeps going (real processes, Redis)."""

from __future__ import annotations

from typing import Any

from tests.helpers import wait_for
from tests.workflows.conftest import Cluster, Orch
from tests.workflows.documents import UNKNOWN_TASK_YAML
from tests.workflows.seeds import IT_SUPPORT, REVIEWED, variant

TICKET = {"subject": "VPN drops every hour", "priority": "Medium", "category": "Network"}


def broken(change: Any) -> dict[str, Any]:
    doc = variant(REVIEWED, "Broken Flow")
    change(doc)
    return doc


def _set(path: list[Any], value: Any) -> Any:
    def change(doc: dict[str, Any]) -> None:
        here = doc
        for key in path[:-1]:
            here = here[key]
        here[path[-1]] = value

    return change


def _no_start(doc: dict[str, Any]) -> None:
    doc["graph"]["nodes"][0]["is_start"] = False


def _unreachable(doc: dict[str, Any]) -> None:
    doc["graph"]["nodes"].append(
        {"temp_id": "x", "name": "Orphan", "role_id": 1, "weight": 0.1, "is_end": True}
    )


def _end_with_edge(doc: dict[str, Any]) -> None:
    doc["graph"]["edges"].append({"from_temp_id": "c", "to_temp_id": "t", "name": "Again"})


def _dead_end(doc: dict[str, Any]) -> None:
    doc["graph"]["nodes"].append({"temp_id": "d", "name": "Dead", "role_id": 1, "weight": 0.1})
    doc["graph"]["edges"].append({"from_temp_id": "t", "to_temp_id": "d", "name": "Park"})


PROBLEMS: list[tuple[str, Any, str]] = [
    ("no start node", _no_start, "graph.nodes"),
    (
        "several start nodes",
        _set(["graph", "nodes", 2, "is_start"], True),
        "graph.nodes[2].is_start",
    ),
    ("an unreachable node", _unreachable, "graph.nodes[4]"),
    (
        "an edge to an unknown node",
        _set(["graph", "edges", 0, "to_temp_id"], "zz"),
        "graph.edges[0].to_temp_id",
    ),
    ("a duplicate temp_id", _set(["graph", "nodes", 2, "temp_id"], "r"), "graph.nodes[2].temp_id"),
    (
        "duplicate edge names out of one node",
        _set(["graph", "edges", 1, "name"], "Assign"),
        "graph.edges[1].name",
    ),
    ("an end node with outgoing edges", _end_with_edge, "graph.nodes[3].is_end"),
    ("a non-end node without edges", _dead_end, "graph.nodes[4]"),
    ("an SLA not HH:MM:SS", _set(["workflow", "high_sla"], "12h"), "workflow.high_sla"),
    ("a weight out of (0, 1]", _set(["graph", "nodes", 1, "weight"], 1.5), "graph.nodes[1].weight"),
    (
        "a name clashing with a code blueprint",
        _set(["workflow", "name"], "Code Defined"),
        "workflow.name",
    ),
]


async def test_every_validation_problem_is_refused_with_its_path(cluster: Cluster) -> None:
    a = await cluster.orchestrator()

    for what, change, path in PROBLEMS:
        status, body = await a.call("POST", "/api/v1/blueprints", broken(change))
        assert status == 400, (what, body)
        assert body["error"]["code"] == "BLUEPRINT_INVALID", what
        assert path in [p["path"] for p in body["error"]["details"]["problems"]], (what, body)

    status, body = await a.call("POST", "/api/v1/blueprints", yaml_text=UNKNOWN_TASK_YAML)
    assert status == 400, body
    [problem] = body["error"]["details"]["problems"]
    assert problem["path"] == "states.go.action.dispatch_task.task_type"
    assert "nobody-does-this" in problem["message"]
    status, body = await a.call("GET", "/api/v1/blueprints")
    assert [b["name"] for b in body] == ["code-defined"]


async def test_all_problems_come_at_once(cluster: Cluster) -> None:
    a = await cluster.orchestrator()
    doc = broken(_no_start)
    doc["graph"]["nodes"][1]["weight"] = 0
    doc["workflow"]["low_sla"] = "tomorrow"

    status, body = await a.call("POST", "/api/v1/blueprints", doc)

    assert status == 400
    paths = [p["path"] for p in body["error"]["details"]["problems"]]
    assert paths == ["workflow.low_sla", "graph.nodes[1].weight", "graph.nodes"]


async def test_python_is_never_accepted(cluster: Cluster) -> None:
    a = await cluster.orchestrator()
    headers = {"X-Client-Token": a.token, "Content-Type": "text/x-python"}
    async with a.session.post(
        a.url + "/api/v1/blueprints", data="import os\nos.system('id')\n", headers=headers
    ) as r:
        assert r.status == 400
        assert (await r.json())["error"]["code"] == "BLUEPRINT_INVALID"


def renamed_decision(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 2: Triage's 'Assign' becomes 'Route'."""
    new = variant(doc)
    for edge in new["graph"]["edges"]:
        if edge["name"] == "Assign":
            edge["name"] = "Route"
    return new


async def walk(orch: Orch, job_id: str, steps: list[tuple[str, str]]) -> dict[str, Any]:
    for state, decision in steps:
        await orch.waiting_in(job_id, state)
        await orch.decide(job_id, decision, "agent-1", f"{decision} at {state}")
    return await orch.ended(job_id)


async def test_a_new_version_leaves_running_tickets_on_theirs(cluster: Cluster) -> None:
    a, b = await cluster.orchestrator(), await cluster.orchestrator()
    _, v1 = await a.call("POST", "/api/v1/blueprints", REVIEWED)
    old = await a.start("/api/v1/reviewed-incident", TICKET)
    await a.waiting_in(old, "Triage")

    status, v2 = await a.call(
        "PUT", "/api/v1/blueprints/reviewed-incident", renamed_decision(REVIEWED)
    )
    assert status == 201, v2
    assert v2["version"] != v1["version"]
    assert v2["versions"] == [v1["version"], v2["version"]]

    async def b_has_v2() -> bool:
        _, listed = await b.call("GET", "/api/v1/blueprints")
        return any(x["version"] == v2["version"] for x in listed)

    await wait_for(b_has_v2, 1.0, "process b to serve version 2")
    new = await b.start("/api/v1/reviewed-incident", TICKET)
    # each ticket decides its own version's decision, through the other process
    old_job = await walk(
        b,
        old,
        [
            ("Triage", "Assign"),
            ("Resolution", "Resolved"),
            ("Review", "Reopen"),
            ("Resolution", "Resolved"),
            ("Review", "Approve"),
            ("Closed", "complete"),
        ],
    )
    new_job = await walk(
        a,
        new,
        [
            ("Triage", "Route"),
            ("Resolution", "Resolved"),
            ("Review", "Approve"),
            ("Closed", "complete"),
        ],
    )

    assert (old_job["status"], old_job["blueprint_version"]) == ("finished", v1["version"])
    assert (new_job["status"], new_job["blueprint_version"]) == ("finished", v2["version"])
    steps = [p["step"] for p in old_job["result"]["path"]]
    assert steps == ["Triage", "Resolution", "Review", "Resolution", "Review", "Closed"]
    assert old_job["result"]["path"][2]["notes"] == "Reopen at Review"
    status, body = await a.call("POST", f"/api/v1/jobs/{new}/decision", {"decision": "Assign"})
    assert status == 409  # the ticket is closed; nothing moves it again


async def test_a_retired_workflow_refuses_new_tickets_and_finishes_running_ones(
    cluster: Cluster,
) -> None:
    a, b = await cluster.orchestrator(), await cluster.orchestrator()
    await a.call("POST", "/api/v1/blueprints", IT_SUPPORT)
    running = await a.start("/api/v1/it-support-request", TICKET)
    await a.waiting_in(running, "Triage")

    status, body = await a.call("DELETE", "/api/v1/blueprints/it-support-request")
    assert (status, body["retired"]) == (200, True)

    async def refused_by_b() -> bool:
        status, body = await b.call("POST", "/api/v1/it-support-request", {"initial_data": TICKET})
        assert status in (202, 410), body
        return status == 410 and body["error"]["code"] == "BLUEPRINT_RETIRED"

    await wait_for(refused_by_b, 1.0, "process b to refuse new tickets")
    status, body = await a.call("POST", "/api/v1/it-support-request", {"initial_data": TICKET})
    assert (status, body["error"]["code"]) == (410, "BLUEPRINT_RETIRED")
    job = await walk(b, running, [("Triage", "Assign"), ("Resolution", "complete")])
    assert job["status"] == "finished"
    _, detail = await a.call("GET", "/api/v1/blueprints/it-support-request")
    assert detail["retired"] is True
    status, code = await a.call("DELETE", "/api/v1/blueprints/code-defined")
    assert (status, code["error"]["code"]) == (409, "BLUEPRINT_NOT_REGISTERED")


async def test_a_breached_sla_escalates_and_the_ticket_still_finishes(cluster: Cluster) -> None:
    a = await cluster.orchestrator()
    await a.call("POST", "/api/v1/blueprints", REVIEWED)  # urgent_sla 00:00:02
    job_id = await a.start("/api/v1/reviewed-incident", {**TICKET, "priority": "Urgent"})

    async def escalated() -> list[dict[str, Any]]:
        return [e for e in await a.history(job_id) if e["type"] == "escalated"]

    [event] = await wait_for(escalated, 10, "the Triage step to escalate")
    assert (event["state"], event["to_role"]) == ("Triage", "5")
    assert event["notify_job_id"]
    still = await a.job(job_id)
    assert (still["status"], still["current_state"]) == ("waiting_for_human", "Triage")
    job = await walk(a, job_id, [("Triage", "Duplicate"), ("Closed", "complete")])

    assert job["status"] == "finished"
    triage, closed = job["result"]["path"]
    assert (triage["sla_met"], triage["escalations"]) == (False, 1)
    assert triage["due_s"] < triage["duration_s"]
    assert job["result"]["sla_s"] == 2
