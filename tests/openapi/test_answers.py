"""Every answer component of the OpenAPI document holds a real answer of the app.

The components are generated from the Structs that type the answers (``api/answers/``,
``worker_sdk.protocol``). One walk through the API makes every answer an operation of the
document names (its 2xx bodies, Server-Sent Events, the error envelope, the 503 of a storage
that does not answer), each judged against the component its operation names. A component
the walk does not reach fails the test: a new answer needs a step here. The fuzz run
(``test_fuzz.py``) checks answers too, but only those its cases happen to reach.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import redis.asyncio as aioredis
from aiohttp import ClientResponse
from jsonschema import Draft202012Validator

from orchestrator.api.openapi import build_document
from orchestrator.appkeys import REGISTRY, SETTINGS
from orchestrator.config import ClientToken
from orchestrator.storage.redis_store import RedisStore
from tests.api.conftest import (
    CLIENT_TOKEN,
    OTHER_CLIENT_TOKEN,
    Api,
    MakeApi,
    client_headers,
    worker_headers,
)
from tests.helpers import RedisProcess
from tests.human.blueprints import alert
from tests.openapi.blueprints import ALL

CLIENTS = (
    ClientToken("alice", CLIENT_TOKEN, can_manage_blueprints=True, can_manage_workers=True),
    ClientToken("bob", OTHER_CLIENT_TOKEN),
)
WORKER = "w-answers"
WORKFLOW = {
    "workflow": {"name": "Answers Drill"},
    "graph": {
        "nodes": [
            {"temp_id": "n1", "name": "Triage", "role_id": 2, "is_start": True, "weight": 0.5},
            {"temp_id": "n2", "name": "Fix", "role_id": 3, "is_end": True, "weight": 0.5},
        ],
        "edges": [{"from_temp_id": "n1", "to_temp_id": "n2", "name": "Assign"}],
    },
}


def answer_components(doc: dict[str, Any]) -> set[str]:
    """The components an operation's answer names: a JSON or event-stream body, the items
    of an array of them, each choice of a ``oneOf``."""
    names = set()
    for operations in doc["paths"].values():
        for operation in operations.values():
            for answer in operation["responses"].values():
                for media in answer.get("content", {}).values():
                    schema = media["schema"]
                    schema = schema.get("items", schema)
                    for choice in schema.get("oneOf", [schema]):
                        if "$ref" in choice:
                            names.add(choice["$ref"].rsplit("/", 1)[1])
    return names


def events(text: str) -> list[dict[str, str]]:
    """The events of a Server-Sent Events stream, each as its fields (comments left out)."""
    found = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and ":" in line[1:]
        )
        if fields and not block.startswith(":"):
            found.append(fields)
    return found


class Answers:
    """The bodies seen, by the component their operation names."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.seen: dict[str, list[Any]] = defaultdict(list)

    async def json(self, component: str, resp: ClientResponse, status: int = 200) -> Any:
        assert resp.status == status, (component, resp.status, await resp.text())
        body = await resp.json()
        self.seen[component] += body if isinstance(body, list) else [body]
        return body

    async def stream(self, component: str, resp: ClientResponse) -> None:
        assert resp.status == 200, (component, resp.status, await resp.text())
        found = events(await resp.text())
        assert found, component
        self.seen[component] += found

    async def call(self, component: str, method: str, path: str, **kwargs: Any) -> Any:
        status = kwargs.pop("status", 200)
        kwargs.setdefault("headers", client_headers())
        resp = await self.api.client.request(method, path, **kwargs)
        return await self.json(component, resp, status)

    async def worker(self, component: str, method: str, path: str, **kwargs: Any) -> Any:
        return await self.call(component, method, path, headers=worker_headers(), **kwargs)


async def _jobs_and_tasks(a: Answers) -> str:
    """The worker's answers, and a job's: returns the id of a finished job."""
    await a.call("StatusOk", "GET", "/_public/status")
    await a.worker("Registered", "POST", "/_worker/workers/register", json=_registration())
    body = {"initial_data": {"name": "Ada"}}
    jobs = [await a.call("Accepted", "POST", "/api/v1/greeting", json=body, status=202)]
    jobs += [await a.call("Accepted", "POST", "/api/v1/review", json=body, status=202)]
    jobs += [await a.call("Accepted", "POST", "/api/v1/review", json=body, status=202)]
    next_task = f"/_worker/workers/{WORKER}/tasks/next"
    task = await a.worker("Task", "GET", next_task, params={"timeout": "1"})
    batch = await a.worker("TaskBatch", "GET", next_task, params={"timeout": "1", "max": "2"})
    assert len(batch["tasks"]) == 2, batch
    held = {"worker_id": WORKER, "attempt": 1}
    progress = {**_delivery(task), **held, "fraction": 0.5, "message": "half"}
    await a.worker("ProgressAnswer", "POST", "/_worker/tasks/progress", json=progress)
    job = await a.call("Job", "GET", f"/api/v1/jobs/{task['job_id']}")
    assert job["task"]["progress"]["fraction"] == 0.5, job
    first, second = batch["tasks"]
    await a.call("Cancelled", "POST", f"/api/v1/jobs/{first['job_id']}/cancel")
    beat = await a.worker("HeartbeatAnswer", "PATCH", f"/_worker/workers/{WORKER}", json={})
    assert beat["cancelled_tasks"], beat
    decline = {**_delivery(second), **held}
    await a.worker("DeclineAnswer", "POST", "/_worker/tasks/decline", json=decline)
    result = {**_delivery(task), **held, "status": "success", "data": {"greeting": "Hi"}}
    await a.worker("ResultAnswer", "POST", "/_worker/tasks/result", json=result)
    ended = task["job_id"]
    await a.api.wait_status(ended, "finished")
    await a.call("Event", "GET", f"/api/v1/jobs/{ended}/history")
    resp = await a.api.client.get(f"/api/v1/jobs/{ended}/events", headers=client_headers())
    await a.stream("StreamedEvent", resp)
    await a.call("JobPage", "GET", "/api/v1/jobs")
    await a.call("Error", "GET", "/api/v1/jobs/nope", status=404)
    return str(ended)


async def _operations(a: Answers, ended: str) -> None:
    """The catalogue, the workers, the dashboard, a drain, files."""
    await a.call("Blueprint", "GET", "/api/v1/blueprints")
    await a.call("Worker", "GET", "/api/v1/workers")
    await a.call("Dashboard", "GET", "/api/v1/dashboard")
    await a.call("Draining", "POST", f"/api/v1/workers/{WORKER}/drain", status=202)
    await a.worker("Draining", "POST", f"/_worker/workers/{WORKER}/drain", status=202)
    files = f"/api/v1/jobs/{ended}/files"
    await a.call("Uploaded", "PUT", f"{files}/content/report.txt", data=b"answer")
    await a.call("FileList", "GET", files)
    await a.call("UploadLink", "GET", f"{files}/upload", params={"filename": "b.txt"})


async def _people(a: Answers) -> None:
    """Human steps: the approval webhook, the inbox, a reassignment, an escalation, a
    decision."""
    approval = await a.call("Accepted", "POST", "/api/v1/approval", json={}, status=202)
    token = (await a.api.job(approval["job_id"]))["approval"]["token"]
    decided = {"decision": "approve", "token": token}
    path = f"/_public/webhooks/approval/{approval['job_id']}"
    await a.call("ApprovalReceived", "POST", path, json=decided, headers={})
    data = {"alert_id": "a-1", "escalations": [{"after": 3600, "to_role": "supervisor"}]}
    body = {"initial_data": data}
    job_id = (await a.call("Accepted", "POST", "/api/v1/alerts", json=body, status=202))["job_id"]
    await a.api.wait_status(job_id, "waiting_for_human")
    page = await a.call("HumanTaskPage", "GET", "/api/v1/human-tasks")
    assert page["items"], page
    resp = await a.api.client.get(
        "/api/v1/human-tasks/events",
        params={"wait": "0", "last_event_id": "0-0"},
        headers=client_headers(),
    )
    await a.stream("InboxEvent", resp)
    job = f"/api/v1/jobs/{job_id}"
    await a.call("Reassigned", "POST", f"{job}/assignment", json={"assignee": "ann"})
    await a.call("Escalated", "POST", f"{job}/escalation", json={})
    await a.call("DecisionRecorded", "POST", f"{job}/decision", json={"decision": "acknowledge"})


async def _workflows(a: Answers) -> None:
    """A workflow registered, described, a ticket moved along it, the workflow retired."""
    saved = await a.call(
        "RegisteredBlueprint", "POST", "/api/v1/blueprints", json=WORKFLOW, status=201
    )
    name = saved["name"]
    await a.call("BlueprintDetail", "GET", f"/api/v1/blueprints/{name}")
    await a.call("BlueprintDetail", "GET", "/api/v1/blueprints/greeting")
    ticket = {"initial_data": {"subject": "Laptop", "priority": "High"}}
    job_id = (await a.call("Accepted", "POST", saved["endpoint"], json=ticket, status=202))[
        "job_id"
    ]
    await a.api.wait_status(job_id, "waiting_for_human")
    await a.call("Ticket", "GET", f"/api/v1/tickets/{job_id}")
    path = f"/api/v1/tickets/{job_id}/transition"
    await a.call("TicketTransitioned", "POST", path, json={"transition_id": 1})
    await a.call("BlueprintRetired", "DELETE", f"/api/v1/blueprints/{name}")


def _registration() -> dict[str, Any]:
    return {"worker_id": WORKER, "supported_skills": ["greet", "review"], "capacity": 3}


def _delivery(task: dict[str, Any]) -> dict[str, Any]:
    return {"job_id": task["job_id"], "task_id": task["task_id"]}


async def _storage_down(make_api: MakeApi, prefix: str) -> Any:
    """The status of an app whose Redis stopped answering."""
    server = RedisProcess().start()
    try:
        store = RedisStore(aioredis.Redis.from_url(server.url), prefix)
        api = await make_api(store=store)
        server.kill()
        resp = await api.client.get("/_public/status")
        assert resp.status == 503, await resp.text()
        return await resp.json()
    finally:
        server.kill()


async def test_every_answer_component_holds_a_real_answer(
    make_api: MakeApi, s3_settings: dict[str, Any], prefix: str
) -> None:
    api = await make_api(blueprints=[*ALL, alert], clients=CLIENTS, dev_mode=True, **s3_settings)
    doc = build_document(api.app[SETTINGS], api.app[REGISTRY].all())
    a = Answers(api)
    ended = await _jobs_and_tasks(a)
    await _operations(a, ended)
    await _people(a)
    await _workflows(a)
    await a.call("Flushed", "POST", "/_public/debug/flush_db", headers={})
    a.seen["StatusDown"].append(await _storage_down(make_api, f"{prefix}-down"))

    wanted = answer_components(doc)
    assert wanted - set(a.seen) == set(), "components no answer of the walk reached"
    for name, bodies in sorted(a.seen.items()):
        assert name in wanted, f"{name} is no operation's answer"
        schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for body in bodies:
            errors = [e.message for e in validator.iter_errors(body)]
            assert not errors, f"{name}: {errors}\n{json.dumps(body, indent=1)[:2000]}"


async def test_the_walk_notices_an_answer_off_its_component(api: Api) -> None:
    """The judge can fail: a job's answer is not a worker's registration answer."""
    doc = build_document(api.app[SETTINGS], api.app[REGISTRY].all())
    job_id = await api.create()
    body = await api.job(job_id)
    schema = {"$ref": "#/components/schemas/Registered", "components": doc["components"]}
    assert not Draft202012Validator(schema).is_valid(body)
    schema["$ref"] = "#/components/schemas/Job"
    assert Draft202012Validator(schema).is_valid(body)
