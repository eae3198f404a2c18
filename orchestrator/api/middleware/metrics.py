"""The route group HTTP metrics are labelled with (the ``front`` middleware counts and times
every answer by group and status)."""

from __future__ import annotations

_GROUPS = (("/_public/", "public"), ("/api/", "api"), ("/_worker/", "worker"))


def route_group(path: str) -> str:
    """The API group of a path. Labels never carry the path itself: ids in paths would make
    the number of series grow without bound."""
    for prefix, group in _GROUPS:
        if path.startswith(prefix):
            return group
    return "other"
