"""A YAML blueprint compiles to the same object as its Python twin: same graph, same arrows."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.blueprint import Blueprint
from orchestrator.blueprint.yaml_loader import load_yaml
from orchestrator.examples.greeting import blueprint as greeting_py
from orchestrator.intake.specs import load_blueprints
from tests.yaml.conftest import GREETING_YAML, ROUTING_YAML


def arrows(bp: Blueprint) -> set[tuple[str, str, str]]:
    """Each arrow with the outcome that takes it, guards aside."""
    return {
        (s.name, t, label) for s in bp.states.values() for h in s.handlers for t, label in h.edges
    }


def test_the_yaml_twin_draws_the_same_arrows_as_the_python_blueprint() -> None:
    greeting_yaml = load_yaml(GREETING_YAML)

    assert (
        arrows(greeting_yaml)
        == arrows(greeting_py)
        == {
            ("validate", "done", "success"),
            ("validate", "failed", "failure"),
        }
    )
    # The YAML twin's check is a guard, which its arrows show; the Python one's is an `if`.
    guard = '[initial_data.name matches \\"\\\\S\\"]'
    assert greeting_yaml.to_dot() == greeting_py.to_dot().replace(
        "[label=success]", f'[label="success {guard}"]'
    ).replace("[label=failure]", f'[label="failure {guard}"]')


def test_yaml_arrows_carry_outcomes_guards_and_the_default() -> None:
    dot = load_yaml(ROUTING_YAML).to_dot()
    guard = "[initial_data.amount > 100 and not initial_data.customer.vip == true]"

    assert f'route -> reviewed [label="success {guard}"]' in dot
    assert f'route -> refused [label="rejected {guard}"]' in dot
    assert 'route -> auto [label="[else]"]' in dot
    assert "auto -> approved [label=success]" in dot


def test_the_twins_have_the_same_states_flags_and_targets() -> None:
    greeting_yaml = load_yaml(GREETING_YAML)

    def shape(bp: Blueprint) -> dict[str, tuple[bool, bool, frozenset[str]]]:
        return {s.name: (s.start, s.end, s.targets) for s in bp.states.values()}

    assert shape(greeting_yaml) == shape(greeting_py)
    assert (greeting_yaml.name, greeting_yaml.api_version, greeting_yaml.api_endpoint) == (
        greeting_py.name,
        greeting_py.api_version,
        greeting_py.api_endpoint,
    )
    assert not any(s.dynamic for s in greeting_yaml.states.values())


def test_the_version_follows_the_yaml_text(tmp_path: Path) -> None:
    text = GREETING_YAML.read_text()
    changed = tmp_path / "greeting.yaml"
    changed.write_text(text.replace("timeout: 30", "timeout: 31"))

    first, again, other = load_yaml(GREETING_YAML), load_yaml(text), load_yaml(changed)

    assert first.version == again.version
    assert other.version != first.version
    assert other.to_dot() == first.to_dot(), "same graph, same DOT, whatever the version"


def test_a_guarded_state_keeps_its_handlers_in_order() -> None:
    route = load_yaml(ROUTING_YAML).states["route"]

    assert [h.when is not None for h in route.handlers] == [True, False]
    assert route.targets == {"reviewed", "refused", "auto"}


def test_load_blueprints_takes_yaml_files_and_directories(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GREETING_YAML.read_text())
    (tmp_path / "b.yml").write_text(ROUTING_YAML.read_text())
    (tmp_path / "notes.txt").write_text("not a blueprint")

    from_file = load_blueprints([str(GREETING_YAML), "orchestrator.examples.greeting:blueprint"])
    from_dir = load_blueprints([str(tmp_path)])

    assert [bp.name for bp in from_file] == ["greeting", "greeting"]
    assert arrows(from_file[0]) == arrows(from_file[1])
    assert [bp.name for bp in from_dir] == ["greeting", "yaml_routing"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("orchestrator/examples/greeting.py", "neither a .yaml/.yml file nor a directory"),
        ("no/such/file.yaml", "cannot read blueprint file"),
        ("no/such/dir/", "no such blueprint directory: no/such/dir/"),
        ("my_flow.py:flow", r"give the module's name, without \.py: my_flow:flow\)"),
    ],
)
def test_load_blueprints_names_a_bad_path(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_blueprints([spec])
