"""What ``--blueprints`` names: a Python module (or ``module:attr``), a YAML file, or every
YAML file of a directory.

A file named ``*.workflow.yaml`` holds a seed-003 workflow and is compiled to a blueprint;
any other ``.yaml``/``.yml`` file is a YAML blueprint (``blueprint/yaml_loader.py``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from pathlib import Path

from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.yaml_loader import SUFFIXES, load_yaml
from orchestrator.errors import BlueprintError, ConfigError
from orchestrator.workflows.build import workflow_file
from worker_sdk.loading import import_failure, missing_module_hint


def load_blueprints(specs: Iterable[str]) -> list[Blueprint]:
    """Import ``module`` or ``module:attr`` specs and collect the blueprints they hold.

    A bare module contributes every ``Blueprint`` at its top level. A spec ending in ``.yaml``
    or ``.yml``, or holding a ``/``, is a YAML blueprint file or a directory of them.
    """
    found: list[Blueprint] = []
    for spec in specs:
        if is_path_spec(spec):
            found.extend(load_path_spec(spec))
            continue
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except (BlueprintError, ConfigError):
            raise  # a message of ours, naming the blueprint or the setting already
        except ModuleNotFoundError as exc:
            raise ValueError(_not_found(module_name, attr, exc)) from exc
        except Exception as exc:
            raise ValueError(
                f"cannot import blueprint module {module_name!r}: {import_failure(exc)}"
            ) from exc
        if attr:
            obj = getattr(module, attr, None)
            if not isinstance(obj, Blueprint):
                raise ValueError(f"{spec!r} is not a Blueprint")
            found.append(obj)
        else:
            objs = [v for v in vars(module).values() if isinstance(v, Blueprint)]
            if not objs:
                raise ValueError(f"module {module_name!r} defines no Blueprint")
            found.extend(objs)
    return found


def _not_found(module_name: str, attr: str, exc: ModuleNotFoundError) -> str:
    if exc.name and module_name != exc.name and not module_name.startswith(exc.name + "."):
        # The module exists; something it imports does not.
        return f"cannot import blueprint module {module_name!r}: {import_failure(exc)}"
    return f"cannot import blueprint module {module_name!r}: {exc}" + missing_module_hint(
        module_name, attr
    )


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
    if path.suffix not in SUFFIXES and not path.exists():
        raise ValueError(f"no such blueprint directory: {spec}")
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
