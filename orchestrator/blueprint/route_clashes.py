"""When two routes clash: one concrete path that both route templates match, with methods
that meet (GET and HEAD count as one). Declared routes are checked against each other, against
blueprints' create routes (``BlueprintRegistry``) and against the built-in routes
(``api/routes_declared.py``), so that no route silently shadows another.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _segments(path: str) -> list[str]:
    """The path's segments; a ``/`` inside ``{name:regex}`` does not split."""
    found, depth, current = [], 0, ""
    for char in path.strip("/"):
        depth += (char == "{") - (char == "}")
        if char == "/" and depth == 0:
            found.append(current)
            current = ""
        else:
            current += char
    return [*found, current]


def _wild(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def _rest(segment: str) -> bool:
    """``{name:.+}``: a pattern that may cross ``/``, so it matches the rest of the path."""
    pattern = segment[1:-1].partition(":")[2] if _wild(segment) else ""
    return bool(pattern) and pattern not in ("[^/]+", "[^/]*")


def overlap(a: str, b: str) -> bool:
    """Whether one concrete path matches both templates (aiohttp's ``{x}``, ``{x:regex}``)."""
    left, right = _segments(a), _segments(b)
    for i in range(max(len(left), len(right))):
        x = left[i] if i < len(left) else None
        y = right[i] if i < len(right) else None
        if (x is not None and _rest(x)) or (y is not None and _rest(y)):
            return True
        if x is None or y is None:
            return False
        if not (_wild(x) or _wild(y) or x == y):
            return False
    return True


def same_method(a: str, b: str) -> bool:
    return a == b or {a, b} == {"GET", "HEAD"}


def route_clash(bp: Any, others: Iterable[Any]) -> str | None:
    """Why ``bp``'s routes (declared, or its create route) clash with those of ``others``
    (blueprints), or ``None``."""
    create = f"/api/{bp.api_version}/{bp.api_endpoint}"
    for other in others:
        if other is bp:
            continue
        other_create = f"/api/{other.api_version}/{other.api_endpoint}"
        for route in bp.routes:
            if same_method(route.method, "POST") and overlap(route.path, other_create):
                return (
                    f"blueprint {bp.name!r}: route {route.method} {route.path} clashes with "
                    f"blueprint {other.name!r}'s create route {other_create}"
                )
            for theirs in other.routes:
                if same_method(route.method, theirs.method) and overlap(route.path, theirs.path):
                    return (
                        f"blueprint {bp.name!r}: route {route.method} {route.path} clashes "
                        f"with blueprint {other.name!r}'s route {theirs.method} {theirs.path}"
                    )
        for theirs in other.routes:
            if same_method(theirs.method, "POST") and overlap(theirs.path, create):
                return (
                    f"blueprint {bp.name!r}: its create route {create} clashes with blueprint "
                    f"{other.name!r}'s route {theirs.method} {theirs.path}"
                )
    return None
