"""The route examples of docs/blueprints.md and docs/yaml-blueprints.md load as they are."""

from __future__ import annotations

import re

import pytest

from orchestrator.blueprint.routes import problems
from orchestrator.blueprint.yaml_loader import load_yaml
from tests.helpers import ROOT

STATES = """blueprint: doc_example
states:
  review: {start: true, action: {await_human: {decisions: {acknowledge: done}}}}
  done: {end: true}
"""


def section(doc: str, heading: str) -> str:
    text = (ROOT / "docs" / doc).read_text()
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else None]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_the_python_example_declares_valid_routes() -> None:
    (code,) = blocks(section("blueprints.md", "## Routes in a client system's shapes"), "python")
    names: dict[str, object] = {}
    exec(code, names)  # the documentation's own example
    routes = [*names["audit"].routes, *names["alert"].routes]  # type: ignore[attr-defined]
    assert len(routes) == 4
    assert [p for route in routes for p in problems(route)] == []


@pytest.mark.parametrize(
    ("doc", "heading"),
    [
        ("blueprints.md", "## Routes in a client system's shapes"),
        ("yaml-blueprints.md", "## Routes"),
    ],
)
def test_the_yaml_example_loads(doc: str, heading: str) -> None:
    (text,) = blocks(section(doc, heading), "yaml")
    bp = load_yaml(STATES + text)
    assert bp.routes
