"""docs/configuration.md stays true: a row for every setting, with its environment variable, its
``Settings`` field and its default; and its Python example runs."""

from __future__ import annotations

import re
from functools import reduce
from typing import Any

from orchestrator.config import FLAT, Settings
from orchestrator.config_sources import ENV_VARS
from tests.helpers import ROOT

DOC = (ROOT / "docs" / "configuration.md").read_text()
ROW = re.compile(r"^\| `(\w+)` \| `(ORCH_\w+)` \| `([\w.]+)` \| ([^|]*) \|", re.M)
ROWS = {m[1]: (m[2], m[3], m[4].strip()) for m in ROW.finditer(DOC)}
FROM_TEXT = sorted(ENV_VARS.values())


def test_every_setting_read_from_text_has_a_row() -> None:
    assert sorted(ROWS) == FROM_TEXT


def test_each_row_names_the_variable_and_the_field() -> None:
    wrong = [n for n in FROM_TEXT if (f"ORCH_{n.upper()}", FLAT[n][0]) != ROWS[n][:2]]

    assert wrong == []


def test_each_row_gives_the_default() -> None:
    wrong = [f"{n}: {ROWS[n][2]}" for n in FROM_TEXT if not shows(ROWS[n][2], default(n))]

    assert wrong == []


def default(name: str) -> Any:
    return reduce(getattr, FLAT[name][0].split("."), Settings())


def shows(cell: str, value: Any) -> bool:
    """The cell begins with the value in backticks; an unset default is not shown so."""
    shown = re.match(r"`([^`]+)`", cell)
    if value in (None, "", ()):
        return shown is None
    if shown is None:
        return False
    if isinstance(value, bool):
        return shown[1] == str(value).lower()
    if isinstance(value, int | float):
        return float(shown[1]) == value
    return bool(shown[1] == value)


def test_the_token_structures_name_their_fields() -> None:
    for path in ("auth.clients", "auth.worker_token", "auth.worker_tokens"):
        assert f"(`{path}`)" in DOC


def test_the_python_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC, re.S)

    assert len(blocks) == 1
    exec(compile(blocks[0], "docs/configuration.md", "exec"), {})
