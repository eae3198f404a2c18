"""DOT text of a blueprint, through the ``graphviz`` package (no binary needed for text)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import graphviz

if TYPE_CHECKING:
    from orchestrator.blueprint.dsl import Blueprint


def to_dot(bp: Blueprint) -> str:
    # The comment holds the name only: the version hashes handler code, and two blueprints with
    # the same graph (a YAML one and its Python twin) must give the same DOT text.
    dot = graphviz.Digraph(name=bp.name, comment=bp.name)
    dot.attr(rankdir="LR")
    for st in sorted(bp.states.values(), key=lambda s: (not s.start, s.end, s.name)):
        shape = "doublecircle" if st.end else ("circle" if st.start else "box")
        dot.node(st.name, st.name, shape=shape)
    for st in sorted(bp.states.values(), key=lambda s: s.name):
        for target in sorted(st.targets):
            dot.edge(st.name, target)
    return str(dot.source)
