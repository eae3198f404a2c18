"""The shape of the code: a pure core that loads no I/O library, and small modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, child_env

MAX_LINES = 400

ENGINE = sorted((ROOT / "orchestrator" / "engine").glob("*.py"))

IO = ("aiohttp", "redis", "fakeredis")
FORBIDDEN = (*IO, "orchestrator.shell", "orchestrator.api", "orchestrator.storage")
"""What importing the engine must not load: an I/O library, or a layer above the engine."""

PROBE = """
import importlib, pkgutil, sys
import orchestrator
# What the package's own __init__ loads (its facade) is not the engine's doing; the I/O
# libraries count wherever they come from.
before = set(sys.modules)
import orchestrator.engine as engine
names = [f"orchestrator.engine.{m.name}" for m in pkgutil.iter_modules(engine.__path__)]
forbidden = sys.argv[1].split(",")
for name in [*names, *sys.argv[2:]]:
    importlib.import_module(name)
print(len(names))
loaded = [m for m in sys.modules if m not in before or not m.startswith("orchestrator.")]
print(",".join(sorted(
    m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden)
)))
"""


def engine_modules() -> list[str]:
    names = [f"orchestrator.engine.{p.stem}" for p in ENGINE if p.stem != "__init__"]
    assert len(names) > 10, "the engine was not found"
    return names


def probe(forbidden: tuple[str, ...], *modules: str) -> list[str]:
    """Import every engine module (found with pkgutil) and ``modules``; the module count and
    the ``forbidden`` modules (or their submodules) that got loaded."""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", PROBE, ",".join(forbidden), *modules],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_engine_imports_no_io_library_and_no_layer_above_it() -> None:
    count, loaded = probe(FORBIDDEN)

    assert int(count) == len(engine_modules())
    assert loaded == ""


def test_the_blueprint_dsl_imports_no_io_library() -> None:
    _, loaded = probe(IO, "orchestrator.blueprint")

    assert loaded == ""


def test_the_probe_sees_a_forbidden_import() -> None:
    """The probe can fail: the shell, imported on purpose, is reported."""
    _, loaded = probe(FORBIDDEN, "orchestrator.shell.jobs")

    assert "orchestrator.shell" in loaded.split(",")
    assert "redis" in loaded.split(",")


def _imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: p.name)
def test_the_engine_imports_only_the_standard_library_and_itself(path: Path) -> None:
    tree = ast.parse(path.read_text())
    names = [
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in _imports(tree)
        for alias in node.names
    ]
    foreign = [
        n
        for n in names
        if n.split(".")[0] not in sys.stdlib_module_names
        and n.split(".")[0] != "__future__"
        and not n.startswith("orchestrator.engine")
    ]

    assert foreign == []


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: p.name)
def test_the_engine_has_no_import_inside_a_function(path: Path) -> None:
    """Imports in functions hide circles between modules; the engine's run one way."""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    hidden = [f"line {n.lineno}" for n in _imports(tree) if id(n) not in top]

    assert hidden == []


def modules() -> list[Path]:
    found = sorted(
        p for package in ("orchestrator", "worker_sdk") for p in (ROOT / package).rglob("*.py")
    )
    assert len(found) > 20, "the package tree was not found"
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_400_lines(path: Path) -> None:
    lines = len(path.read_text().splitlines())

    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (max {MAX_LINES})"
