"""A blueprint's version follows its code, not its comments or layout."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from orchestrator.blueprint.dsl import Blueprint

TEMPLATE = """
from orchestrator import Actions, Blueprint

bp = Blueprint("versioned")


@bp.handler(start=True)
async def start(actions: Actions) -> None:
    {body}


@bp.handler(end=True)
async def done() -> dict:
    return {{}}
"""


def _load(tmp_path: Path, name: str, body: str) -> Blueprint:
    path = tmp_path / f"{name}.py"
    path.write_text(TEMPLATE.format(body=body))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    bp: Blueprint = module.bp
    return bp


def test_comments_and_layout_do_not_change_the_version(tmp_path: Path) -> None:
    plain = _load(tmp_path, "v_plain", 'actions.go_to("done")')
    commented = _load(tmp_path, "v_commented", 'actions.go_to(  "done" )  # why: none')
    changed = _load(tmp_path, "v_changed", 'actions.go_to("done"); print("side effect")')
    assert plain.version == commented.version
    assert plain.version != changed.version
