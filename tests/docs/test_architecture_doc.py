"""docs/architecture.md walks one job through the modules: every module it names exists."""

from __future__ import annotations

import re

from tests.helpers import ROOT

DOC = (ROOT / "docs" / "architecture.md").read_text()
PATH = re.compile(r"\b((?:orchestrator|worker_sdk|tests)/[\w/.-]*[\w/])")


def test_every_path_the_page_names_exists() -> None:
    named = set(PATH.findall(DOC))

    assert len(named) > 20, "the page names no modules any more"
    assert sorted(p for p in named if not (ROOT / p).exists()) == []


def test_the_walk_takes_at_most_a_dozen_hops() -> None:
    walk = DOC.split("module by module", 1)[1].split("\n\n", 2)[1]
    hops = re.findall(r"^\d+\. ", walk, flags=re.MULTILINE)

    assert 5 <= len(hops) <= 12
