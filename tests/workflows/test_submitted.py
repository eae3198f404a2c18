"""Reading a blueprint sent over HTTP, and the registry keeping every registered version."""

from __future__ import annotations

import asyncio

import orjson
import pytest
import yaml

from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.blueprint.yaml_loader import load_yaml
from orchestrator.intake import submitted
from tests.workflows.documents import APPROVAL_YAML, UNKNOWN_TASK_YAML
from tests.workflows.seeds import IT_SUPPORT, variant

NONE: dict[tuple[str, str], str] = {}


def read(raw: bytes, content_type: str = "application/json", **kw: object) -> submitted.Submission:
    args: dict[str, object] = {"taken": (), "routes": NONE, "known_task_types": None, **kw}
    return submitted.read(raw, content_type, **args)  # type: ignore[arg-type]


def problems(raw: bytes, content_type: str = "application/json", **kw: object) -> list[dict]:
    with pytest.raises(submitted.Invalid) as caught:
        read(raw, content_type, **kw)
    return caught.value.problems


def test_a_workflow_as_json_or_as_yaml_is_the_same_blueprint() -> None:
    as_json = read(orjson.dumps(IT_SUPPORT))
    as_yaml = read(yaml.safe_dump(IT_SUPPORT).encode(), "application/yaml")

    assert as_json.kind == as_yaml.kind == "workflow"
    assert as_json.blueprint.version == as_yaml.blueprint.version
    assert as_json.source == as_yaml.source  # canonical JSON either way


def test_a_yaml_document_and_its_json_twin_have_the_files_version() -> None:
    as_yaml = read(APPROVAL_YAML.encode(), "application/yaml")
    as_json = read(orjson.dumps(yaml.safe_load(APPROVAL_YAML)))

    assert (
        as_yaml.blueprint.version == as_json.blueprint.version == load_yaml(APPROVAL_YAML).version
    )


def test_a_broken_yaml_document_names_the_state_and_line() -> None:
    broken = APPROVAL_YAML.replace("approved, reject", "nowhere, reject")

    found = problems(broken.encode(), "application/yaml")
    assert found[0]["path"] == "states.ask"
    assert found[0]["line"] == 7
    assert "nowhere" in found[0]["message"]
    # ``approved`` is now unreachable: reported too, at its own state
    assert [p["path"] for p in found[1:]] == ["states.approved"]


def test_python_and_garbage_are_refused() -> None:
    assert problems(b"import os", "text/x-python")[0]["message"].startswith("Python code")
    assert "not valid JSON" in problems(b"{nope")[0]["message"]
    assert problems(b"[1, 2]")[0]["path"] == ""
    assert problems(b"")


def test_names_routes_and_task_types_are_checked() -> None:
    taken = problems(APPROVAL_YAML.encode(), "application/yaml", taken=("expense-approval",))
    route = problems(
        APPROVAL_YAML.encode(), "application/yaml", routes={("v1", "expense-approval"): "other"}
    )
    reserved = problems(
        APPROVAL_YAML.replace(
            "blueprint: expense-approval", "blueprint: x\napi_endpoint: jobs"
        ).encode(),
        "application/yaml",
    )
    unknown = problems(UNKNOWN_TASK_YAML.encode(), "application/yaml", known_task_types={"greet"})

    assert [p["path"] for p in taken] == ["blueprint"]
    assert [p["path"] for p in route] == ["api_endpoint"]
    assert [p["path"] for p in reserved] == ["api_endpoint"]
    assert [p["path"] for p in unknown] == ["states.go.action.dispatch_task.task_type"]
    assert (
        read(
            UNKNOWN_TASK_YAML.encode(), "application/yaml", known_task_types={"nobody-does-this"}
        ).kind
        == "yaml"
    )


def test_a_stored_record_builds_the_same_blueprint_again() -> None:
    sub = read(orjson.dumps(IT_SUPPORT))
    again, built = submitted.from_record(sub.kind, sub.source)

    assert again.version == sub.blueprint.version
    assert built is not None and built.compiled.steps == {
        "node_1": "Triage",
        "node_2": "Resolution",
    }


def versions() -> tuple[Blueprint, Blueprint]:
    v1 = read(orjson.dumps(IT_SUPPORT)).blueprint
    doc = variant(IT_SUPPORT)
    doc["graph"]["edges"][0]["name"] = "Route"
    return v1, read(orjson.dumps(doc)).blueprint


def test_the_registry_keeps_earlier_versions_for_running_jobs() -> None:
    v1, v2 = versions()
    registry = BlueprintRegistry()
    registry.put(v1)
    registry.put(v2)

    assert registry.get(v1.name) is v2
    assert registry.get_version(v1.name, v1.version) is v1
    assert registry.for_route("v1", "it-support-request") is v2
    assert registry.versions(v1.name) == [v1.version, v2.version]
    assert registry.is_registered(v1.name)


def test_a_retired_blueprint_keeps_its_versions_but_not_its_route() -> None:
    v1, _ = versions()
    registry = BlueprintRegistry()
    registry.put(v1)
    registry.retire(v1.name)

    assert registry.for_route("v1", "it-support-request") is None
    assert registry.retired("v1", "it-support-request") == v1.name
    assert registry.get_version(v1.name, v1.version) is v1
    registry.put(v1)
    assert registry.retired("v1", "it-support-request") is None


def test_a_code_blueprint_cannot_be_replaced_by_a_registered_one() -> None:
    v1, _ = versions()
    code = load_yaml(APPROVAL_YAML.replace("expense-approval", v1.name))
    registry = BlueprintRegistry([code])

    with pytest.raises(ValueError, match="code-defined"):
        registry.put(v1)


def test_an_unknown_version_is_fetched_once_asked_for() -> None:
    v1, v2 = versions()
    registry = BlueprintRegistry()
    registry.put(v2)
    asked: list[tuple[str, str]] = []

    async def fetch(name: str, version: str) -> Blueprint | None:
        asked.append((name, version))
        return v1 if version == v1.version else None

    registry.fetch_version = fetch
    found = asyncio.run(registry.find_version(v1.name, v1.version))

    assert found is v1
    assert asked == [(v1.name, v1.version)]
    assert asyncio.run(registry.find_version(v1.name, "nope")) is None
