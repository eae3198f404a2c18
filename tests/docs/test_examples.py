"""The docs' examples, run by CI: every ``orchestrator/examples/*.py`` module imports, every
blueprint in them is valid and draws, the cookbook (``docs/blueprints.md``) runs end to end on the
embedded store with its worker, and the unit-test snippets of ``docs/worker-sdk.md`` pass."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

import aiohttp
import pytest

from orchestrator import Actions, Blueprint, BlueprintError, BlueprintRegistry, Settings, create_app
from orchestrator.blueprint.conditions import where
from orchestrator.config import ClientToken
from orchestrator.examples import cookbook_tasks, cookbook_worker, greeting_worker
from orchestrator.intake.specs import load_blueprints
from orchestrator.storage.embedded import embedded_store
from tests.helpers import ROOT, child_env
from worker_sdk import Worker
from worker_sdk.testing import run_task

EXAMPLES = sorted(
    p.stem for p in (ROOT / "orchestrator" / "examples").glob("*.py") if p.stem != "__init__"
)
COOKBOOK = [name for name in EXAMPLES if name.startswith("cookbook_") and name != "cookbook_worker"]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"orchestrator.examples.{name}")


def _blueprints(module: ModuleType) -> list[Blueprint]:
    return [v for v in vars(module).values() if isinstance(v, Blueprint)]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_imports_and_its_blueprints_are_valid(name: str) -> None:
    module = _module(name)
    blueprints = _blueprints(module)
    if blueprints:
        assert load_blueprints([f"orchestrator.examples.{name}"]) == blueprints
    for bp in blueprints:
        bp.validate()
    workers = [v for v in vars(module).values() if isinstance(v, Worker)]
    assert blueprints or workers, (
        f"orchestrator/examples/{name}.py defines no Blueprint and no Worker"
    )
    for worker in workers:
        assert worker.task_types, (
            f"the worker in orchestrator/examples/{name}.py has no task handler"
        )


def test_every_example_blueprint_can_be_served_together() -> None:
    """Names and routes do not clash, so one orchestrator can serve all the examples."""
    blueprints = load_blueprints(
        [f"orchestrator.examples.{name}" for name in EXAMPLES if name in COOKBOOK]
    )
    registry = BlueprintRegistry([*blueprints, *_blueprints(_module("greeting"))])
    assert len(registry) == len(blueprints) + 1


def test_the_cookbook_worker_knows_every_task_the_cookbook_dispatches() -> None:
    source = "\n".join(
        (ROOT / "orchestrator" / "examples" / f"{name}.py").read_text() for name in COOKBOOK
    )
    for task_type in cookbook_worker.worker.task_types:
        assert f'"{task_type}"' in source, f"{task_type} is not used by any cookbook recipe"


GRAPHS = [(bp.name, name) for name in COOKBOOK for bp in _blueprints(_module(name))]


@pytest.mark.parametrize(("blueprint", "module"), GRAPHS)
def test_orchestrator_graph_prints_dot(blueprint: str, module: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestrator",
            "graph",
            blueprint,
            "--blueprints",
            f"orchestrator.examples.{module}",
        ],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"digraph {blueprint} {{" in done.stdout


def test_the_broken_blueprint_of_the_docs_lists_its_problems() -> None:
    """The example in docs/blueprints.md, "What is checked when the blueprint loads"."""
    broken = Blueprint("broken")

    @broken.handler(start=True)
    async def begin(actions: Actions) -> None:
        actions.dispatch_task("check", transitions={"success": "done", "failure": "oops"})

    @broken.handler("review", when=where("results.nowhere.score") > 3)
    async def review(actions: Actions) -> None:
        actions.go_to("done")

    @broken.handler()
    async def pick(initial_data: dict[str, Any], actions: Actions) -> None:
        actions.go_to(initial_data["next"])

    @broken.handler(end=True)
    async def done() -> dict[str, Any]:
        return {}

    with pytest.raises(BlueprintError) as caught:
        broken.validate()
    assert str(caught.value) == (
        "Invalid blueprint 'broken' (4 problems):\n"
        "  - state 'begin' moves to unknown state(s): oops\n"
        "  - state 'review' has a condition on missing state 'nowhere' (results.nowhere.score)\n"
        "  - state 'pick' computes a target at run time; declare the states it may move to "
        "with goes_to=[...]\n"
        "  - unreachable state(s) from 'begin': pick, review"
    )


# -- the unit-test snippets of docs/worker-sdk.md -------------------------------------------


async def test_greet() -> None:
    outcome = await run_task(greeting_worker.worker, "greet", {"name": "Ada"})
    assert outcome.ok
    assert outcome.data == {"greeting": "Hello, Ada!", "attempt": 1}


async def test_greet_refuses_a_missing_name() -> None:
    outcome = await run_task(greeting_worker.worker, "greet", {})
    assert outcome.status == "failure"
    assert outcome.error is not None
    assert outcome.error.code == "BAD_PARAMS"
    assert not outcome.error.retryable


async def test_charge_is_retried_then_idempotent() -> None:
    worker = cookbook_worker.worker
    params = {"card": "4242", "amount": 5000}
    first = await run_task(worker, "charge_card", params, task_id="job-1.2", attempt=1)
    assert first.error is not None and first.error.retryable
    second = await run_task(worker, "charge_card", params, task_id="job-1.2", attempt=2)
    third = await run_task(worker, "charge_card", params, task_id="job-1.2", attempt=3)
    assert second.ok and third.ok
    assert second.data is not None and third.data is not None
    assert second.data["charge_id"] == third.data["charge_id"]  # charged once


# -- the cookbook, end to end ----------------------------------------------------------------

CLIENT_TOKEN, WORKER_TOKEN = "docs-client", "docs-worker"
BUSY = {"waiting_for_worker", "waiting_for_parallel", "waiting_for_child"}


class Cookbook:
    def __init__(self, base: str, http: aiohttp.ClientSession) -> None:
        self.base = base
        self.http = http

    async def run(self, endpoint: str, initial_data: dict[str, Any]) -> dict[str, Any]:
        """Start a job and wait until it ends or waits for a person."""
        job_id = await self.start(endpoint, initial_data)
        for _ in range(100):
            job = await self.job(job_id, wait=0.1)
            if job["status"] not in BUSY:
                return job
        raise AssertionError(f"job {job_id} still busy: {job}")

    async def start(self, endpoint: str, initial_data: dict[str, Any]) -> str:
        body = {"initial_data": initial_data}
        async with self.http.post(f"{self.base}/api/v1/{endpoint}", json=body) as resp:
            assert resp.status == 202, await resp.text()
            return str((await resp.json())["job_id"])

    async def job(self, job_id: str, wait: float = 0) -> dict[str, Any]:
        async with self.http.get(f"{self.base}/api/v1/jobs/{job_id}?wait={wait}") as resp:
            assert resp.status == 200, await resp.text()
            return dict(await resp.json())

    async def post(self, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
        async with self.http.post(f"{self.base}{path}", json=body, headers=headers) as resp:
            return resp.status, await resp.json()


SETTINGS = Settings.from_flat(
    clients=(ClientToken("docs", CLIENT_TOKEN),),
    worker_token=WORKER_TOKEN,
    approval_secret="docs",
    lease_s=2.0,
    heartbeat_interval_s=0.5,
    poll_timeout_s=2.0,
    sweep_interval_s=0.05,
)


@asynccontextmanager
async def serve_cookbook(aiohttp_server: Any, *, with_worker: bool) -> AsyncIterator[Cookbook]:
    """An orchestrator on the embedded store serving every example blueprint, and (unless
    told otherwise) a worker with the cookbook worker's handlers."""
    specs = [f"orchestrator.examples.{name}" for name in COOKBOOK] + [
        "orchestrator.examples.greeting"
    ]
    registry = BlueprintRegistry(load_blueprints(specs))
    server = await aiohttp_server(create_app(SETTINGS, embedded_store("docs"), registry))
    base = str(server.make_url("")).rstrip("/")
    headers = {"X-Client-Token": CLIENT_TOKEN}
    async with aiohttp.ClientSession(headers=headers) as http:
        if not with_worker:
            yield Cookbook(base, http)
            return
        worker = Worker(
            url=base,
            token=WORKER_TOKEN,
            worker_id="docs-worker",
            poll_timeout_s=2.0,
            tags=cookbook_worker.worker.settings.tags,  # charge_card requires "pci"
        )
        for task_type, handler in cookbook_worker.worker.handlers.items():
            worker.task(task_type)(handler.func)
        async with worker:
            yield Cookbook(base, http)


@pytest.fixture
async def cookbook(aiohttp_server: Any) -> AsyncIterator[Cookbook]:
    async with serve_cookbook(aiohttp_server, with_worker=True) as served:
        yield served


RUNS: list[tuple[str, dict[str, Any], str, str]] = [
    ("invoice", {"customer_id": "c-1", "amount": 120}, "finished", "paid"),
    ("invoice", {"customer_id": "c-1", "amount": 5000}, "finished", "paid"),
    ("invoice", {"customer_id": "c-2", "amount": 10}, "finished", "declined"),
    ("invoice", {"customer_id": "nope", "amount": 1}, "finished", "unknown_customer"),
    ("invoice", {"amount": 1}, "failed", "validate"),
    ("orders", {"amount": 50, "country": "FR"}, "finished", "approved"),
    ("orders", {"amount": 50, "country": "XX"}, "finished", "blocked"),
    ("orders", {"amount": 20000}, "finished", "blocked"),
    ("orders", {"amount": 2500}, "finished", "manual_review"),
    ("orders", {"amount": 2500, "vip": True}, "finished", "approved"),
    ("orders", {"amount": "lots"}, "quarantined", "score"),
    ("thumbnails", {"image": "cat.png"}, "finished", "collect"),
    ("thumbnails", {"image": "cat.png", "sizes": [64, 4096]}, "finished", "collect"),
    ("thumbnails", {"image": "cat.png", "sizes": [4096]}, "failed", "collect"),
    ("expenses", {"amount": 50}, "finished", "approved"),
    ("expenses", {"amount": 450}, "waiting_for_human", "ask_manager"),
    ("onboarding", {"user": "ada", "document": "P-123"}, "finished", "activate"),
    ("onboarding", {"user": "bob", "document": "X-1"}, "finished", "rejected"),
]


async def test_cookbook_runs_as_the_docs_say(cookbook: Cookbook) -> None:
    """One test for every path listed in docs/blueprints.md (one app start for all)."""
    for endpoint, data, status, state in RUNS:
        job = await cookbook.run(endpoint, data)
        assert (job["status"], job["current_state"]) == (status, state), (endpoint, data, job)


async def test_cookbook_results(cookbook: Cookbook) -> None:
    paid = await cookbook.run("invoice", {"customer_id": "c-1", "amount": 5000})
    assert paid["result"]["paid"] is True and paid["result"]["customer"] == "c-1"
    declined = await cookbook.run("invoice", {"customer_id": "c-2", "amount": 10})
    assert declined["result"] == {"paid": False, "customer": "c-2", "reason": "card declined"}
    missing = await cookbook.run("invoice", {"amount": 1})
    assert missing["error"]["code"] == "MISSING_FIELDS"
    odd = await cookbook.run("orders", {"amount": "lots"})
    assert odd["error"]["code"] == "UNMAPPED_TASK_STATUS"
    some = await cookbook.run("thumbnails", {"image": "cat.png", "sizes": [64, 4096]})
    assert [t["size"] for t in some["result"]["thumbnails"]] == [64]
    assert some["result"]["failed"] == ["TOO_LARGE"]
    none = await cookbook.run("thumbnails", {"image": "cat.png", "sizes": [4096]})
    assert none["error"]["code"] == "NO_THUMBNAILS"
    active = await cookbook.run("onboarding", {"user": "ada", "document": "P-123"})
    assert active["result"] == {"user": "ada", "active": True, "identity_score": 0.97}
    refused = await cookbook.run("onboarding", {"user": "bob", "document": "X-1"})
    assert refused["result"] == {"active": False, "reason": "KYC_FAILED"}


async def test_cookbook_approval_webhook(cookbook: Cookbook) -> None:
    job = await cookbook.run("expenses", {"amount": 450})
    approval = job["approval"]
    assert approval["decisions"] == ["approve", "reject"]
    url = approval["url"]
    status, body = await cookbook.post(url, {"decision": "approve"})
    assert (status, body["error"]["code"]) == (403, "INVALID_APPROVAL_TOKEN")
    status, body = await cookbook.post(url, {"decision": "maybe", "token": approval["token"]})
    assert (status, body["error"]["code"]) == (400, "INVALID_DECISION")
    status, body = await cookbook.post(
        url, {"decision": "approve"}, **{"X-Approval-Token": approval["token"]}
    )
    assert (status, body["status"]) == (200, "approval_received")
    done = await cookbook.job(job["job_id"], wait=10)
    assert done["result"] == {"approved": True, "amount": 450, "by_person": True}
    status, body = await cookbook.post(url, {"decision": "approve", "token": approval["token"]})
    assert (status, body["error"]["code"]) == (409, "NOT_WAITING_FOR_HUMAN")


async def test_cookbook_approval_timeout_moves_on(cookbook: Cookbook) -> None:
    job_id = await cookbook.start("expenses", {"amount": 450, "manager_timeout_s": 0.2})
    first = (await cookbook.job(job_id))["approval"]
    for _ in range(100):
        job = await cookbook.job(job_id, wait=0.1)
        if job["current_state"] == "ask_director":
            break
    assert job["approval"]["state"] == "ask_director"
    url = job["approval"]["url"]
    status, _ = await cookbook.post(url, {"decision": "reject", "token": first["token"]})
    assert status == 403  # the manager's token is for a step the job has left
    status, _ = await cookbook.post(url, {"decision": "reject", "token": job["approval"]["token"]})
    assert status == 200
    done = await cookbook.job(job_id, wait=10)
    assert done["result"] == {"approved": False, "asked": ["ask_manager", "ask_director"]}


async def test_cookbook_retry_and_history(cookbook: Cookbook) -> None:
    job = await cookbook.run("orders", {"amount": "lots"})
    status, body = await cookbook.post(f"/api/v1/jobs/{job['job_id']}/retry")
    assert status == 200 and body["current_state"] == "score"
    again = await cookbook.job(job["job_id"], wait=10)
    assert again["status"] == "quarantined"
    async with cookbook.http.get(f"{cookbook.base}/api/v1/jobs/{job['job_id']}/history") as resp:
        types = [event["type"] for event in await resp.json()]
    assert types.count("job_quarantined") == 2 and "job_retried" in types


async def test_cookbook_without_a_worker_goes_to_no_worker(
    aiohttp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cookbook_tasks, "LOOKUP_DISPATCH_TIMEOUT_S", 0.2)
    async with serve_cookbook(aiohttp_server, with_worker=False) as cookbook:
        job = await cookbook.run("invoice", {"customer_id": "c-1", "amount": 1})
    assert (job["status"], job["current_state"]) == ("failed", "no_worker")
    assert job["error"]["code"] == "NO_BILLING_WORKER"
