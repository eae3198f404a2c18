"""DOT text of a blueprint, through the ``graphviz`` package (no binary needed for text).

Each arrow carries what takes it: the outcome (``success``, ``failure``, a decision, ``catch
CODE``, ``aggregate``, ``timeout``) and, in a state with ``when=`` handlers, the guard of the
handler that draws it (``[else]`` for the default one). A target that only ``goes_to`` names
gets a bare arrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import graphviz
import orjson

from orchestrator.blueprint.conditions import All, AnyOf, Compare, Condition, Not

if TYPE_CHECKING:
    from orchestrator.blueprint.dsl import Blueprint, State

_SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def to_dot(bp: Blueprint) -> str:
    # The comment holds the name only: the version hashes handler code, and two blueprints with
    # the same graph (a YAML one and its Python twin) must give the same DOT text.
    dot = graphviz.Digraph(name=bp.name, comment=bp.name)
    dot.attr(rankdir="LR")
    for st in sorted(bp.states.values(), key=lambda s: (not s.start, s.end, s.name)):
        shape = "doublecircle" if st.end else ("circle" if st.start else "box")
        dot.node(st.name, st.name, shape=shape)
    for st in sorted(bp.states.values(), key=lambda s: s.name):
        for target, label in sorted(_edges(st)):
            if label:
                dot.edge(st.name, target, label=label)
            else:
                dot.edge(st.name, target)
    return str(dot.source)


def _edges(st: State) -> set[tuple[str, str]]:
    guarded = any(h.when is not None for h in st.handlers)
    edges: set[tuple[str, str]] = set()
    for h in st.handlers:
        guard = f"[{describe(h.when) if h.when is not None else 'else'}]" if guarded else ""
        edges.update((target, " ".join(filter(None, (label, guard)))) for target, label in h.edges)
    drawn = {target for target, _ in edges}
    edges.update((target, "") for target in st.targets - drawn)
    return edges


def describe(cond: Condition) -> str:
    """A condition as one short line: ``initial_data.amount > 100 and not (...)``."""
    if isinstance(cond, Compare):
        if cond.op == "exists":
            return f"{cond.path} exists"
        value = orjson.dumps(cond.value).decode()
        return f"{cond.path} {_SYMBOLS.get(cond.op, cond.op)} {value}"
    if isinstance(cond, All | AnyOf):
        joiner = " and " if isinstance(cond, All) else " or "
        return joiner.join(_nested(p) for p in cond.parts)
    if isinstance(cond, Not):
        return f"not {_nested(cond.part)}"
    return orjson.dumps(cond.to_json()).decode()


def _nested(cond: Condition) -> str:
    text = describe(cond)
    return f"({text})" if isinstance(cond, All | AnyOf) else text
