"""blueprint/registry.py: blueprints by name and route; intake/specs.py: loading them."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest

from orchestrator.blueprint import Blueprint, BlueprintRegistry
from orchestrator.errors import BlueprintError
from orchestrator.intake.specs import load_blueprints


def sound(name: str, **route: str) -> Blueprint:
    bp = Blueprint(name, **route)

    @bp.handler(start=True)
    async def begin(actions: object) -> None:
        actions.go_to("done")  # type: ignore[attr-defined]

    @bp.handler(end=True)
    async def done() -> None: ...

    return bp


def test_blueprints_are_found_by_name_and_route() -> None:
    audit = sound("audit", api_version="v2", api_endpoint="audits/validate")
    alerts = sound("alerts")

    registry = BlueprintRegistry([audit, alerts])

    assert len(registry) == 2
    assert registry.get("audit") is audit
    assert registry.get("nope") is None
    assert registry.for_route("v2", "/audits/validate/") is audit
    assert registry.for_route("v1", "alerts") is alerts
    assert registry.for_route("v2", "alerts") is None
    assert [bp.name for bp in registry.all()] == ["alerts", "audit"]


def test_adding_the_same_blueprint_twice_is_harmless() -> None:
    bp = sound("audit")
    registry = BlueprintRegistry([bp])

    registry.add(bp)

    assert len(registry) == 1


def test_two_blueprints_with_one_name_are_refused() -> None:
    registry = BlueprintRegistry([sound("audit")])

    with pytest.raises(ValueError, match="two blueprints are named 'audit'"):
        registry.add(sound("audit", api_endpoint="other"))


def test_two_blueprints_on_one_route_are_refused() -> None:
    registry = BlueprintRegistry([sound("audit", api_endpoint="check")])

    with pytest.raises(ValueError, match="two blueprints answer /api/v1/check"):
        registry.add(sound("alerts", api_endpoint="check"))
    assert registry.get("alerts") is None


def test_a_broken_blueprint_is_refused_when_added() -> None:
    broken = Blueprint("broken")

    @broken.handler(start=True)
    async def begin(actions: object) -> None:
        actions.go_to("ghost")  # type: ignore[attr-defined]

    with pytest.raises(BlueprintError, match="ghost"):
        BlueprintRegistry([broken])


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def write_module(where: Path, body: str) -> str:
    name = f"bp_mod_{uuid.uuid4().hex[:8]}"
    (where / f"{name}.py").write_text(textwrap.dedent(body))
    return name


TWO_BLUEPRINTS = """
    from orchestrator.blueprint import Blueprint

    first = Blueprint("first")
    second = Blueprint("second")
    not_a_blueprint = 3
"""


def test_a_bare_module_gives_every_blueprint_it_holds(modules: Path) -> None:
    name = write_module(modules, TWO_BLUEPRINTS)

    found = load_blueprints([name])

    assert sorted(bp.name for bp in found) == ["first", "second"]


def test_module_attr_gives_one_blueprint(modules: Path) -> None:
    name = write_module(modules, TWO_BLUEPRINTS)

    found = load_blueprints([f"{name}:second"])

    assert [bp.name for bp in found] == ["second"]


@pytest.mark.parametrize(
    ("body", "suffix", "message"),
    [
        (TWO_BLUEPRINTS, ":missing", ":missing' is not a Blueprint"),
        (TWO_BLUEPRINTS, ":not_a_blueprint", ":not_a_blueprint' is not a Blueprint"),
        ("x = 1\n", "", "defines no Blueprint"),
        ("import no_such_dependency_here\n", "", "No module named 'no_such_dependency_here'"),
    ],
    ids=["missing-attr", "wrong-attr", "no-blueprint", "broken-import"],
)
def test_a_bad_module_is_reported_by_name(
    modules: Path, body: str, suffix: str, message: str
) -> None:
    name = write_module(modules, body)

    with pytest.raises(ValueError) as caught:
        load_blueprints([f"{name}{suffix}"])

    assert message in str(caught.value)
    assert name in str(caught.value)


def test_an_unknown_module_is_reported() -> None:
    with pytest.raises(ValueError, match="cannot import blueprint module 'no_such_module_xyz'"):
        load_blueprints(["no_such_module_xyz"])


def test_a_file_name_for_a_module_says_to_drop_the_suffix() -> None:
    with pytest.raises(ValueError, match=r"give the module's name, without \.py: my_flow\)$"):
        load_blueprints(["my_flow.py"])


def test_a_missing_module_says_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # as the commands do
    with pytest.raises(ValueError) as caught:
        load_blueprints(["my_flow"])
    assert str(caught.value) == (
        "cannot import blueprint module 'my_flow': No module named 'my_flow' "
        f"(looked in the current directory, {tmp_path}, and the installed packages)"
    )
