"""``python3 dev.py demo|test``, the README's first commands: what each installs into .venv.

dev.py runs for real on a copy of the project, with a stand-in ``.venv/bin/python`` that
records how it is called instead of installing anything."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

RECORDER = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/../calls.log"
"""


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dev.py", "pyproject.toml"):
        shutil.copy(ROOT / name, project / name)
    python = project / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(RECORDER)
    python.chmod(0o755)
    return project


def _dev(project: Path, command: str) -> list[str]:
    """Run ``dev.py COMMAND``; the pip installs it made, by their target."""
    log = project / ".venv" / "calls.log"
    log.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, str(project / "dev.py"), command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert calls[-1].startswith({"demo": "-m orchestrator demo", "test": "-m pytest"}[command])
    return [c.split(" -e ", 1)[1] for c in calls if " -e " in c]


def test_demo_installs_the_runtime_only_and_test_adds_the_dev_tools(tmp_path: Path) -> None:
    project = _project(tmp_path)

    assert _dev(project, "demo") == [str(project)], "demo needs no extra"
    assert _dev(project, "demo") == [], "nothing changed: no install"
    assert _dev(project, "test") == [f"{project}[dev,fast,processes,s3]"]
    assert _dev(project, "demo") == [], "the dev tools are a superset of what demo needs"

    with (project / "pyproject.toml").open("a") as f:
        f.write("\n# changed\n")
    assert _dev(project, "demo") == [f"{project}[dev,fast,processes,s3]"], (
        "keeps what test installed"
    )
