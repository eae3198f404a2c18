"""Where ``--blueprints`` finds YAML: a file, or every YAML file of a directory.

A file named ``*.workflow.yaml`` holds a seed-003 workflow and is compiled to a blueprint;
any other ``.yaml``/``.yml`` file is a YAML blueprint (``yaml_loader``).
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.yaml_loader import SUFFIXES, load_yaml
from orchestrator.workflows.build import workflow_file


def is_path_spec(spec: str) -> bool:
    """Whether a ``--blueprints`` entry names YAML files rather than a Python module."""
    return spec.endswith(SUFFIXES) or "/" in spec or os.sep in spec


def load_path_spec(spec: str) -> list[Blueprint]:
    """The blueprint of a YAML file, or of every YAML file in a directory (by name).

    A file named ``*.workflow.yaml`` holds a seed-003 workflow, compiled to a blueprint."""
    path = Path(spec)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES)
        if not files:
            raise ValueError(f"no .yaml or .yml file in {spec}")
        return [_load_file(f) for f in files]
    if path.suffix not in SUFFIXES:
        raise ValueError(
            f"{spec!r} is neither a .yaml/.yml file nor a directory of them "
            "(Python blueprints are given as a module: pkg.module or pkg.module:attr)"
        )
    return [_load_file(path)]


def _load_file(path: Path) -> Blueprint:
    if path.name.endswith(".workflow.yaml"):
        return workflow_file(path)
    return load_yaml(path)
