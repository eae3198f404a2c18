"""A small JSON-schema subset for task results: type, properties, required, items, enum.

Enough to catch a worker that answers in the wrong shape; not a general validator.
"""

from __future__ import annotations

from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def violations(value: Any, schema: dict[str, Any], path: str = "data") -> list[str]:
    """Every way ``value`` breaks ``schema``, each naming where."""
    found: list[str] = []
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        kinds = tuple(k for n in names for k in _TYPES.get(n, ()))
        is_bool = isinstance(value, bool)
        if not isinstance(value, kinds) or (is_bool and "boolean" not in names):
            return [f"{path}: expected {' or '.join(names)}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{path}.{name}: required")
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                found += violations(value[name], sub, f"{path}.{name}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            found += violations(item, schema["items"], f"{path}[{i}]")
    return found
