#!/usr/bin/env python3
"""One command per chore, with nothing installed first but Python 3.11+.

    python3 dev.py demo    # orchestrator (embedded store) + example worker + one job
    python3 dev.py test    # the test suite (starts its own Redis server)
    python3 dev.py lint    # ruff + mypy
    python3 dev.py bench   # the end-to-end benchmark (needs a Redis server)

Each creates ``.venv`` on first use and installs the project into it (again only when
pyproject.toml changes or the command needs more): ``demo`` only what the project runs on,
``test``, ``lint`` and ``bench`` the dev tools too. Extra arguments go to the tool:
``python3 dev.py test -k cancel``. ``test`` runs two pytest processes (``-n 0``: one).
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


EXTRAS = {
    "demo": (),
    "test": ("dev", "fast", "s3", "processes"),
    "lint": ("dev", "fast", "s3", "processes"),
}
EXTRAS["bench"] = EXTRAS["test"]
"""The pyproject extras each command needs: the demo runs on the runtime dependencies alone,
so a first try does not wait for mypy, schemathesis and moto."""


def _installed(stamp: Path) -> tuple[str, set[str]]:
    """The pyproject.toml hash and the extras of the last install ("" and none before one)."""
    try:
        # "<sha256 of pyproject.toml> <extra>,<extra>"
        digest, _, extras = stamp.read_text().strip().partition(" ")
    except OSError:
        return "", set()
    return digest, {e for e in extras.split(",") if e}


def _ensure_env(command: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py itself may run on an older Python
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    stamp = VENV / ".installed"
    pyproject = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    digest, have = _installed(stamp)
    want = set(EXTRAS[command])
    if digest == pyproject and want <= have and PY.exists():
        return
    extras = sorted(want | have)  # update, never drop, what an earlier command installed
    if not PY.exists():
        print("[dev] creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    what = "the project and its dev tools" if "dev" in extras else "the project"
    print(f"[dev] installing {what} into .venv", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    target = f"{ROOT}[{','.join(extras)}]" if extras else str(ROOT)
    subprocess.run([*pip, "-e", target], check=True)
    stamp.write_text(f"{pyproject} {','.join(extras)}")


def _parallel(args: list[str]) -> list[str]:
    """Two test processes unless told otherwise (``-n 0`` runs one): the suite waits on
    servers and subprocesses much of the time, and each process starts its own redis-server.
    A file's tests stay in one process, so a module's fixtures start once."""
    if any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in args):
        return []
    return ["-n", "2", "--dist", "loadfile"]


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
    _ensure_env(command)
    if command == "demo":
        return _run("-m", "orchestrator", "demo", *rest)
    if command == "test":
        return _run("-m", "pytest", *_parallel(rest), *rest)
    if command == "bench":
        return _run("bench/e2e.py", *rest)
    code = _run("-m", "ruff", "check", ".")
    code |= _run("-m", "ruff", "format", "--check", ".")
    code |= _run("-m", "mypy")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
