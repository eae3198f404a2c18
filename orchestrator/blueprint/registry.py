"""The blueprints a deployment serves, by name and by API route (loading them from what
``--blueprints`` names is ``intake/specs.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.internal import INTERNAL
from orchestrator.blueprint.route_clashes import route_clash

Fetch = Callable[[str, str], Awaitable[Blueprint | None]]


class BlueprintRegistry:
    """The blueprints a process serves, by name and by route; ``create_app`` takes one."""

    def __init__(self, blueprints: Iterable[Blueprint] = ()) -> None:
        self._by_name: dict[str, Blueprint] = {}
        self._by_route: dict[tuple[str, str], Blueprint] = {}
        # Blueprints registered at run time (``shell/mirror.py`` keeps these in step with Redis):
        # every version a job may still run on, and the routes of retired ones.
        self._registered: set[str] = set()
        self._versions: dict[tuple[str, str], Blueprint] = {}
        self._retired: dict[tuple[str, str], str] = {}
        self.fetch_version: Fetch | None = None
        """Loads a registered version this process has not heard of yet (set by the app)."""
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
        clash = route_clash(bp, self._by_name.values())
        if clash:
            raise ValueError(clash)
        self._by_name[bp.name] = bp
        self._by_route[route] = bp

    def get(self, name: str) -> Blueprint | None:
        return self._by_name.get(name) or INTERNAL.get(name)

    def for_route(self, version: str, endpoint: str) -> Blueprint | None:
        return self._by_route.get((version, endpoint.strip("/")))

    # -- registered at run time -------------------------------------------------------------

    def put(self, bp: Blueprint) -> None:
        """Serve a registered ``bp`` as its name's current version; the version it replaces
        stays in ``get_version`` for the jobs that run on it."""
        bp.validate()
        if bp.name in self._by_name and bp.name not in self._registered:
            raise ValueError(f"{bp.name!r} is a code-defined blueprint")
        if bp.routes:
            # Declared routes are added to the app's router at start-up; one that came later
            # would never be served.
            raise ValueError("routes: are served only for blueprints loaded at start-up")
        clash = route_clash(bp, [b for b in self._by_name.values() if b.name != bp.name])
        if clash:
            raise ValueError(clash)
        route = (bp.api_version, bp.api_endpoint)
        holder = self._by_route.get(route)
        if holder is not None and holder.name != bp.name:
            raise ValueError(f"blueprint {holder.name!r} answers /api/{route[0]}/{route[1]}")
        old = self._by_name.get(bp.name)
        if old is not None:
            self._by_route.pop((old.api_version, old.api_endpoint), None)
        self._retired = {r: n for r, n in self._retired.items() if n != bp.name}
        self._registered.add(bp.name)
        self._versions[(bp.name, bp.version)] = bp
        self._by_name[bp.name] = bp
        self._by_route[route] = bp

    def keep(self, bp: Blueprint) -> None:
        """Hold an earlier registered version for the jobs still running on it."""
        self._versions[(bp.name, bp.version)] = bp

    def retire(self, name: str) -> None:
        """No new jobs: its route answers 410 from now on; its versions stay for running jobs."""
        bp = self._by_name.pop(name, None)
        if bp is None:
            return
        route = (bp.api_version, bp.api_endpoint)
        self._by_route.pop(route, None)
        self._retired[route] = name

    def retired(self, version: str, endpoint: str) -> str | None:
        """The retired blueprint that answered this route, if any."""
        return self._retired.get((version, endpoint.strip("/")))

    def is_registered(self, name: str) -> bool:
        return name in self._registered

    def versions(self, name: str) -> list[str]:
        """The versions of ``name`` this process can run, oldest first."""
        found = [v for (n, v) in self._versions if n == name]
        current = self._by_name.get(name)
        if current is not None and current.version not in found:
            found.append(current.version)
        return found

    def get_version(self, name: str, version: str) -> Blueprint | None:
        """The blueprint a job started on: the current one, or a registered earlier one."""
        bp = self.get(name)
        if bp is not None and bp.version == version:
            return bp
        return self._versions.get((name, version))

    async def find_version(self, name: str, version: str) -> Blueprint | None:
        """``get_version``, else asks ``fetch_version`` (another process may have registered
        it a moment ago and its announcement not be here yet)."""
        found = self.get_version(name, version)
        code_defined = name in self._by_name and name not in self._registered
        if found is None and self.fetch_version is not None and not code_defined:
            found = await self.fetch_version(name, version)
        return found

    def all(self) -> list[Blueprint]:
        return sorted(self._by_name.values(), key=lambda b: b.name)

    def __len__(self) -> int:
        return len(self._by_name)
