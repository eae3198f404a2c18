"""The ``{{ path }}`` placeholders of YAML blueprints: job data put into values, no code run.

A string that is exactly one placeholder, ``"{{ initial_data.amount }}"``, becomes the value at
that path, whatever its type. Placeholders inside other text, ``"order {{ job_id }}"``, are
replaced by the value as text: strings as they are, anything else as JSON, a missing path as
nothing. Paths are those of conditions (``initial_data``, ``results``, ``context``,
``state_history``, ``job_id``; list items by index); a missing one gives ``None``. There are no
filters, expressions or escapes: this is deliberately not Jinja.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from orchestrator.blueprint.conditions import ROOTS, resolve

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_WHOLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_PATH = re.compile(r"[A-Za-z_][\w-]*(\.[\w-]+)*")
# resolve() answers this sentinel for a path that is not there; asking it once keeps the
# path rules in one place (conditions.py).
_MISSING = resolve({}, "missing")


def paths(value: Any) -> list[str]:
    """Every placeholder path in ``value`` (keys are never templates); ``ValueError`` for a
    malformed placeholder or a path outside the job's data."""
    found: list[str] = []
    if isinstance(value, str):
        for match in _PLACEHOLDER.finditer(value):
            found.append(_check(match.group(1).strip()))
        rest = _PLACEHOLDER.sub("", value)
        if "{{" in rest or "}}" in rest:
            raise ValueError(f"unclosed placeholder in {value!r} (write {{{{ path }}}})")
    elif isinstance(value, Mapping):
        for item in value.values():
            found += paths(item)
    elif isinstance(value, list):
        for item in value:
            found += paths(item)
    return found


def is_whole(value: Any) -> bool:
    """Whether ``value`` is exactly one placeholder, so it renders to a value of any type."""
    return isinstance(value, str) and _WHOLE.fullmatch(value) is not None


def _check(path: str) -> str:
    if not _PATH.fullmatch(path):
        raise ValueError(
            f"placeholder {{{{ {path} }}}} must be a dotted path such as initial_data.name "
            "(no filters or expressions)"
        )
    if path.split(".")[0] not in ROOTS:
        raise ValueError(f"placeholder path {path!r} must start with one of {', '.join(ROOTS)}")
    return path


def render(value: Any, data: Mapping[str, Any]) -> Any:
    """``value`` with every placeholder replaced from ``data`` (the job's data by root)."""
    if isinstance(value, str):
        whole = _WHOLE.fullmatch(value)
        if whole:
            return _lookup(data, whole.group(1))
        if "{{" not in value:
            return value
        return render_text(value, data)
    if isinstance(value, Mapping):
        return {key: render(item, data) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, data) for item in value]
    return value


def render_text(text: str, data: Mapping[str, Any]) -> str:
    """``text`` with placeholders replaced as text, even when it is a single one."""
    return _PLACEHOLDER.sub(lambda m: _as_text(_lookup(data, m.group(1).strip())), text)


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    found = resolve(data, path)
    return None if found is _MISSING else found


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
