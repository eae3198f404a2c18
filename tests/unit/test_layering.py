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

PROBE = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(",".join(sorted(m for m in ("aiohttp", "redis", "fakeredis") if m in sys.modules)))
"""


def engine_modules() -> list[str]:
    names = [f"orchestrator.engine.{p.stem}" for p in ENGINE if p.stem != "__init__"]
    assert len(names) > 10, "the engine was not found"
    return names


def test_the_core_imports_without_aiohttp_or_redis() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", PROBE, *engine_modules(), "orchestrator.blueprint"],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
        timeout=30,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


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
