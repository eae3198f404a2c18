"""The package surface and its size budget."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import worker_sdk
from tests.helpers import ROOT

PUBLIC = [
    "JobFiles",
    "RetryLater",
    "TaskContext",
    "TaskError",
    "TaskResult",
    "Worker",
    "WorkerSettings",
]


def test_public_api_is_listed_and_sorted() -> None:
    assert worker_sdk.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(worker_sdk, name).__doc__, f"{name} has no docstring"


def test_modules_stay_under_400_lines() -> None:
    package = Path(worker_sdk.__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in package.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 400} == {}


def test_the_wheel_installs_only_our_namespaces_and_builds_on_the_oldest_setuptools_allowed(
    tmp_path: Path,
) -> None:
    """Users have their own ``examples`` and ``blueprints`` packages: ours must not shadow
    them. And ``license = "MIT"`` (PEP 639) needs the setuptools that ``requires`` names."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    floor = next(m for r in requires if (m := re.fullmatch(r"setuptools>=(\d+)", r)))
    # Build with the oldest setuptools ``requires`` allows, so a floor too low to read the
    # license fails here. pip's isolated build env follows PIP_BUILD_CONSTRAINT (pip 25.3+),
    # PIP_CONSTRAINT before that.
    constraint = tmp_path / "constraint.txt"
    constraint.write_text(f"setuptools<{int(floor.group(1)) + 1}\n")
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
        ),
    )
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check"]
        + ["-q", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "PIP_BUILD_CONSTRAINT": str(constraint),
            "PIP_CONSTRAINT": str(constraint),
        },
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = next(z.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"orchestrator", "worker_sdk"}
    data = {
        f.relative_to(source).as_posix()
        for package in tops
        for f in (source / package).rglob("*")
        if f.is_file() and f.suffix not in (".py", ".pyc")
    }
    assert "orchestrator/examples/greeting.yaml" in data
    assert data - set(names) == set(), "data files the wheel leaves out"
    assert "License-Expression: MIT" in metadata
