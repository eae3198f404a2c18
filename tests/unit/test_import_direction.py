"""Imports run one way between the orchestrator's parts: web → shell → storage → core.

Each module belongs to a unit (its package under ``orchestrator/``, or itself for a top-level
module), and each unit to a layer. A module may import its own layer and the layers below,
never one above, and the units may not import each other in a circle. Every import counts,
also one inside a function or under ``TYPE_CHECKING``: hiding an edge does not remove it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT

LAYERS: list[tuple[str, frozenset[str]]] = [
    # Processes and what starts them; the package's facade (``orchestrator/__init__.py``); the
    # blueprints and examples shipped with it, written against the facade as users write theirs.
    (
        "entry",
        frozenset(
            {"orchestrator", "__main__", "cli", "client_cli", "demo", "server"}
            | {"blueprints", "examples"}
        ),
    ),
    # Wiring one aiohttp application.
    ("app", frozenset({"app"})),
    # HTTP: the routes, the console, and the typed keys of what the application holds.
    ("web", frozenset({"api", "console", "appkeys"})),
    # The I/O shell: loads a job, lets the engine decide, stores; and what it schedules.
    (
        "shell",
        frozenset(
            {
                "loops",
                "shell",
                "human",
                "webhooks",
                "dispatch",
                "metrics",
                "sse",
                "s3",
                "views",
            }
        ),
    ),
    ("storage", frozenset({"storage"})),
    # What the shell runs and is configured by, all free of I/O.
    ("definitions", frozenset({"blueprint", "workflows", "intake", "config", "logs"})),
    ("core", frozenset({"engine", "errors", "error_codes", "ids", "names", "pass_batch"})),
]

UNIT_OF = {"config_sources": "config"}
"""Modules split off another for the 400-line limit count as that one."""


def unit(module: str) -> str:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else parts[0]
    return UNIT_OF.get(name, name)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> Iterator[tuple[str, str]]:
    """(importer, imported) for every ``orchestrator`` import in the package."""
    for path in sorted((ROOT / "orchestrator").rglob("*.py")):
        importer = module_name(path)
        if importer.count(".") == 1 and importer.split(".")[1] in UNIT_OF:
            importer = f"orchestrator.{UNIT_OF[importer.split('.')[1]]}"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [submodule(node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "orchestrator":
                    yield importer, name


def submodule(package: str, name: str) -> str:
    """``from a import b`` imports the module ``a.b`` when there is one, else a name of ``a``."""
    base = ROOT.joinpath(*package.split("."), name)
    is_module = base.with_suffix(".py").exists() or (base / "__init__.py").exists()
    return f"{package}.{name}" if is_module else package


def layer_of() -> dict[str, int]:
    return {u: rank for rank, (_, units) in enumerate(LAYERS) for u in units}


EDGES = sorted(set(imports()))


def test_every_module_has_a_layer() -> None:
    ranks = layer_of()
    units = {unit(module_name(p)) for p in (ROOT / "orchestrator").rglob("*.py")}

    assert len(units) > 20, "the package tree was not found"
    assert sorted(units - ranks.keys()) == [], "place the new unit in LAYERS"


def test_no_module_imports_a_layer_above_its_own() -> None:
    ranks = layer_of()
    upward = [f"{a} -> {b}" for a, b in EDGES if ranks[unit(b)] < ranks[unit(a)]]

    assert upward == []


def test_the_units_import_each_other_in_no_circle() -> None:
    graph: dict[str, set[str]] = {}
    for a, b in EDGES:
        if unit(a) != unit(b):
            graph.setdefault(unit(a), set()).add(unit(b))

    assert find_cycle(graph) == []


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One circle of units (closed: first == last), or [] when there is none."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str]:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return []
        for nxt in sorted(graph.get(node, ())):
            if cycle := visit(nxt, [*path, node]):
                return cycle
        done.add(node)
        return []

    for start in sorted(graph):
        if cycle := visit(start, []):
            return cycle
    return []


def test_find_cycle_finds_one_and_only_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}}) == []


GONE = [
    ("orchestrator.appkeys", "orchestrator.api"),
    ("orchestrator.webhooks", "orchestrator.shell"),
    ("orchestrator.webhooks", "orchestrator.api"),
    ("orchestrator.shell", "orchestrator.api"),
    ("orchestrator.shell", "orchestrator.app"),
    ("orchestrator.engine", "orchestrator.shell"),
    ("orchestrator.config", "orchestrator.storage"),
    ("orchestrator.blueprint", "orchestrator.storage"),
    ("orchestrator.blueprint", "orchestrator.workflows"),
    ("orchestrator.webhooks", "orchestrator.loops"),
]
"""Back edges removed in issue 8 §2 (NewJob moved to ``engine/new_job.py``, the webhook payload
renders through ``views.py``, the sender is a hook the runner calls; ``check_name`` moved to
``names.py``, the blueprint intake to ``intake/``, the registered blueprints' mirror to
``shell/mirror.py``, the sender's sweep loop to ``loops/webhooks.py``): none may come back."""


def test_the_removed_back_edges_stay_gone() -> None:
    back = [
        f"{a} -> {b}"
        for a, b in EDGES
        for importer, imported in GONE
        if (a == importer or a.startswith(f"{importer}."))
        and (b == imported or b.startswith(f"{imported}."))
    ]

    assert back == []
