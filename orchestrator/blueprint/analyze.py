"""Finds the states a handler can move to by reading its source.

Targets written as string literals (``actions.go_to("x")``, ``transitions={"success": "y"}``,
``decisions=``, ``catch=``, ``aggregate_into="z"``, ``on_timeout="t"``) are found here, so the
graph can be checked when the blueprint loads. A target that is computed at run time cannot be
seen; such handlers declare it with ``goes_to=[...]``.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.engine.requires import RequiresError, encode

_TRANSITION_KWARGS = {"transitions", "decisions", "catch"}
"""Keyword arguments whose value is a ``{outcome: state}`` dict."""
_TARGET_KWARGS = {"aggregate_into", "on_timeout"}
"""Keyword arguments whose value is one state."""


@dataclass
class Targets:
    states: set[str] = field(default_factory=set)
    dynamic: bool = False
    """Some target is not a literal, so the found set may be incomplete."""
    edges: set[tuple[str, str]] = field(default_factory=set)
    """``(state, label)`` of each literal target: what the graph writes on its arrow."""
    problems: list[str] = field(default_factory=list)
    """What is wrong with a literal ``requires`` (of ``dispatch_task`` or a parallel task)."""


def edge_label(kind: str, key: str = "") -> str:
    """The label of an arrow: the outcome that takes it (``success``, a decision, ...).

    ``kind`` is the argument naming the target (``transitions``, ``decisions``, ``catch``,
    ``aggregate_into``, ``on_timeout``, ``go_to``), ``key`` the outcome in its mapping.
    """
    if kind in ("transitions", "decisions"):
        return key
    if kind == "catch":
        return f"catch {key}"
    return {"aggregate_into": "aggregate", "on_timeout": "timeout"}.get(kind, "")


def handler_source(func: Callable[..., Any]) -> str:
    try:
        return textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return ""


def find_targets(func: Callable[..., Any]) -> Targets:
    found = Targets()
    source = handler_source(func)
    if not source:
        found.dynamic = True
        return found
    for node in ast.walk(ast.parse(source)):
        _check_requires(found, node)
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr == "go_to":
            arg = node.args[0] if node.args else _kwarg(node, "state")
            _add(found, arg, "")
        for kw in node.keywords:
            if isinstance(kw.value, ast.Constant) and kw.value.value is None:
                continue  # catch=None, on_timeout=None: no target
            if kw.arg in _TRANSITION_KWARGS:
                if isinstance(kw.value, ast.Dict):
                    for key, value in zip(kw.value.keys, kw.value.values, strict=True):
                        outcome = key.value if isinstance(key, ast.Constant) else None
                        _add(found, value, edge_label(kw.arg, str(outcome or "")))
                else:
                    found.dynamic = True
            elif kw.arg in _TARGET_KWARGS:
                _add(found, kw.value, edge_label(kw.arg))
    return found


def _check_requires(found: Targets, node: ast.AST) -> None:
    """A ``requires=`` keyword or a ``"requires":`` item written as a literal is checked now,
    not when a job first reaches the handler."""
    values: list[ast.expr] = []
    if isinstance(node, ast.Call):
        values = [kw.value for kw in node.keywords if kw.arg == "requires"]
    elif isinstance(node, ast.Dict):
        values = [
            v
            for k, v in zip(node.keys, node.values, strict=True)
            if isinstance(k, ast.Constant) and k.value == "requires"
        ]
    for value in values:
        try:
            literal = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            continue  # computed at run time: checked when the handler runs
        try:
            encode(literal)
        except RequiresError as exc:
            found.problems.append(str(exc))


def _kwarg(node: ast.Call, name: str) -> ast.expr | None:
    for kw in node.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _add(found: Targets, node: ast.expr | None, label: str) -> None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        found.states.add(node.value)
        found.edges.add((node.value, label))
    else:
        found.dynamic = True
