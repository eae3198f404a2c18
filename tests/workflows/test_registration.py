"""Workflows registered over HTTP, served by every orchestrator process (real Redis)."""

from __future__ import annotations

import time

import orjson

from tests.helpers import wait_for
from tests.workflows.conftest import PLAIN, Cluster, Orch
from tests.workflows.seeds import IT_SUPPORT, REVIEWED, variant

TICKET = {
    "subject": "Laptop not turning on",
    "description": "My laptop shows no signs of power",
    "category": "Technology",
    "subcategory": "Hardware",
    "department": "IT",
    "priority": "High",
    "employee": {"id": 101, "name": "John Smith", "email": "john.smith@company.com"},
}


async def served(orch: Orch, name: str) -> bool:
    status, body = await orch.call("GET", "/api/v1/blueprints")
    return status == 200 and any(b["name"] == name for b in body)


async def test_registered_through_one_process_a_ticket_walks_through_another(
    cluster: Cluster,
) -> None:
    a, b = await cluster.orchestrator(), await cluster.orchestrator()

    status, body = await a.call("POST", "/api/v1/blueprints", IT_SUPPORT)
    registered_at = time.monotonic()

    assert status == 201, body
    assert body["name"] == "it-support-request"
    assert body["endpoint"] == "/api/v1/it-support-request"
    assert body["temp_id_mapping"] == {"node_1": "Triage", "node_2": "Resolution"}
    assert body["graph"]["start"] == "received"
    assert ["Triage", "Resolution"] in body["graph"]["edges"]
    await wait_for(lambda: served(b, "it-support-request"), 1.0, "process b to serve it")
    assert time.monotonic() - registered_at < 1.0

    job_id = await b.start("/api/v1/it-support-request", TICKET)
    waiting = await b.waiting_in(job_id, "Triage")
    assert waiting["blueprint_version"] == body["version"]
    await a.decide(job_id, "Assign", "agent-7", "hardware, to the desk")
    await b.waiting_in(job_id, "Resolution")
    await b.decide(job_id, "complete", "tech-3", "battery replaced")
    job = await a.ended(job_id)

    assert job["status"] == "finished", job
    result = job["result"]
    assert [(p["step"], p["decision"], p["actor"], p["notes"]) for p in result["path"]] == [
        ("Triage", "Assign", "agent-7", "hardware, to the desk"),
        ("Resolution", "complete", "tech-3", "battery replaced"),
    ]
    assert result["priority"] == "High"
    assert result["sla_s"] == 24 * 3600
    assert result["sla_met"] is True
    assert [p["sla_met"] for p in result["path"]] == [True, True]
    assert [p["due_s"] for p in result["path"]] == [25920.0, 60480.0]
    assert result["ticket"]["subject"] == TICKET["subject"]
    assert result["workflow"]["name"] == "IT Support Request"
    assert 0 <= result["total_time_s"] < 30


async def test_a_process_started_later_loads_what_was_registered(cluster: Cluster) -> None:
    a = await cluster.orchestrator()
    status, body = await a.call("POST", "/api/v1/blueprints", REVIEWED)
    assert status == 201, body

    late = await cluster.orchestrator()
    job_id = await late.start("/api/v1/reviewed-incident", TICKET)

    await late.waiting_in(job_id, "Triage")


async def test_the_same_content_again_is_a_200_no_op(cluster: Cluster) -> None:
    a = await cluster.orchestrator()
    _, first = await a.call("POST", "/api/v1/blueprints", IT_SUPPORT)
    status, again = await a.call("POST", "/api/v1/blueprints", variant(IT_SUPPORT))

    assert status == 200, again
    assert again["version"] == first["version"]
    assert again["changed"] is False
    assert again["versions"] == [first["version"]]


async def test_a_yaml_document_gets_the_version_of_the_same_file(cluster: Cluster) -> None:
    from orchestrator.blueprint.yaml_loader import load_yaml
    from tests.workflows.documents import APPROVAL_YAML

    a = await cluster.orchestrator()
    status, body = await a.call("POST", "/api/v1/blueprints", yaml_text=APPROVAL_YAML)

    assert status == 201, body
    assert body["version"] == load_yaml(APPROVAL_YAML).version
    assert body["kind"] == "yaml"
    job_id = await a.start("/api/v1/expense-approval", {"amount": 10})
    await a.waiting_in(job_id, "ask")


async def test_changing_blueprints_needs_can_manage_blueprints(cluster: Cluster) -> None:
    a = await cluster.orchestrator()

    for method, path in [
        ("POST", "/api/v1/blueprints"),
        ("PUT", "/api/v1/blueprints/it-support-request"),
        ("DELETE", "/api/v1/blueprints/it-support-request"),
    ]:
        status, body = await a.call(method, path, IT_SUPPORT, token=PLAIN)
        assert status == 403, (method, body)
        assert body["error"]["code"] == "BLUEPRINT_MANAGEMENT_FORBIDDEN"
    assert not await served(a, "it-support-request")


async def test_get_one_blueprint_shows_its_definition_and_versions(cluster: Cluster) -> None:
    a = await cluster.orchestrator()
    _, reg = await a.call("POST", "/api/v1/blueprints", IT_SUPPORT)

    status, body = await a.call("GET", "/api/v1/blueprints/it-support-request")

    assert status == 200, body
    assert body["source"] == "registered"
    assert body["current"] == reg["version"]
    assert [v["version"] for v in body["versions"]] == [reg["version"]]
    assert body["versions"][0]["registered_by"] == "desk"
    assert body["definition"]["workflow"] == IT_SUPPORT
    assert "Triage:" in body["definition"]["yaml"]
    assert "digraph" in body["graph"]["dot"]
    _, listed = await a.call("GET", "/api/v1/blueprints")
    sources = {b["name"]: b["source"] for b in listed}
    assert sources == {"code-defined": "file", "it-support-request": "registered"}
    status, code = await a.call("GET", "/api/v1/blueprints/code-defined")
    assert (status, code["source"]) == (200, "file")


async def test_a_change_whose_announcement_was_lost_is_served_within_a_poll(
    cluster: Cluster,
) -> None:
    import time as clock

    import redis.asyncio as aioredis

    from orchestrator.intake.submitted import read
    from orchestrator.storage.keys import Keys
    from orchestrator.storage.registered import Entry, Record, RegisteredStore

    a = await cluster.orchestrator()  # which checks every sweep_idle_interval_s (1 s here)
    sub = read(
        orjson.dumps(IT_SUPPORT), "application/json", taken=(), routes={}, known_task_types=None
    )
    record = Record(sub.blueprint.name, sub.blueprint.version, sub.kind, sub.source, 0.0, "t")
    client = aioredis.Redis.from_url(cluster.redis_url)
    store = RegisteredStore(client, Keys(cluster.prefix))
    try:  # what a save writes, without the PUBLISH: as if the message were lost
        await client.hset(store.defs, f"{record.name}|{record.version}", record.to_json())
        entry = Entry(record.version, [record.version], False, "workflow")
        await client.hset(store.index, record.name, entry.to_json())
        await client.incr(store.seq)
        written = clock.monotonic()
        await wait_for(lambda: served(a, "it-support-request"), 3.0, "the poll to load it")
        assert clock.monotonic() - written < 2.0
    finally:
        await client.aclose()
