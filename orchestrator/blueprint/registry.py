"""The blueprints a deployment serves, by name and by API route."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.internal import INTERNAL
from orchestrator.blueprint.yaml_loader import is_path_spec, load_path_spec


class BlueprintRegistry:
    def __init__(self, blueprints: Iterable[Blueprint] = ()) -> None:
        self._by_name: dict[str, Blueprint] = {}
        self._by_route: dict[tuple[str, str], Blueprint] = {}
        for bp in blueprints:
            self.add(bp)

    def add(self, bp: Blueprint) -> None:
        """Validate and add ``bp``; a broken blueprint raises ``BlueprintError`` here."""
        bp.validate()
        if bp.name in self._by_name and self._by_name[bp.name] is not bp:
            raise ValueError(f"two blueprints are named {bp.name!r}")
        route = (bp.api_version, bp.api_endpoint)
        if route in self._by_route and self._by_route[route] is not bp:
            raise ValueError(f"two blueprints answer /api/{route[0]}/{route[1]}")
        self._by_name[bp.name] = bp
        self._by_route[route] = bp

    def get(self, name: str) -> Blueprint | None:
        return self._by_name.get(name) or INTERNAL.get(name)

    def for_route(self, version: str, endpoint: str) -> Blueprint | None:
        return self._by_route.get((version, endpoint.strip("/")))

    def all(self) -> list[Blueprint]:
        return sorted(self._by_name.values(), key=lambda b: b.name)

    def __len__(self) -> int:
        return len(self._by_name)


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
        except ImportError as exc:
            raise ValueError(f"cannot import blueprint module {module_name!r}: {exc}") from exc
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
