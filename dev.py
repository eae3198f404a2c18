#!/usr/bin/env python3
"""One command per chore, with nothing installed first but Python 3.11+.

    python3 dev.py demo    # orchestrator (embedded store) + example worker + one job
    python3 dev.py test    # the test suite (starts its own Redis server)
    python3 dev.py lint    # ruff + mypy
    python3 dev.py bench   # the end-to-end benchmark (needs a Redis server)

Each creates ``.venv`` on first use and installs the project into it (again only when
pyproject.toml changes). Extra arguments go to the tool: ``python3 dev.py test -k cancel``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def _ensure_env() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py itself may run on an older Python
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    stamp = VENV / ".installed"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == want and PY.exists():
        return
    if not PY.exists():
        print("[dev] creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("[dev] installing the project and its dev tools into .venv", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev,fast,s3]"], check=True)
    stamp.write_text(want)


def _run(*args: str) -> int:
    return subprocess.call([str(PY), *args], cwd=ROOT)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command not in {"demo", "test", "lint", "bench"}:
        print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
        return 2
    _ensure_env()
    if command == "demo":
        return _run("-m", "orchestrator", "demo", *rest)
    if command == "test":
        return _run("-m", "pytest", *rest)
    if command == "bench":
        return _run("bench/e2e.py", *rest)
    code = _run("-m", "ruff", "check", ".")
    code |= _run("-m", "ruff", "format", "--check", ".")
    code |= _run("-m", "mypy")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
