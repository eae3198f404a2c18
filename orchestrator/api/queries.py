"""Query strings as Structs: each operation's parameters typed once, read by ``parse`` and
published as the operation's OpenAPI ``parameters`` by ``parameters``.

A query is read as the handlers always read it: the first of repeated values wins, an empty
value is an absent one, and a parameter the Struct does not name is ignored. Numbers are read
with Python's ``int``/``float`` (msgspec's lax mode would take ``5.0`` as an integer and
refuse ``05``), then the Struct's bounds are checked by msgspec (``decode.py``): a refusal
names the first broken field in the Struct's order. A number's problem is said from its
bounds; the other fields' problems are given by the caller, and see the value as sent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec
import msgspec.inspect
from aiohttp import web

from orchestrator.api.decode import Also, Problem, decode, invalid

T = TypeVar("T", bound=msgspec.Struct)

Query = Mapping[str, str]
"""``request.query``, whose ``get`` answers the first of repeated values."""


def parse(
    query: Query,
    shape: type[T],
    problems: Mapping[str, Problem] | None = None,
    also: Also | None = None,
) -> T:
    """``query`` as a ``shape``, or the 400 that names its first broken field."""
    fields = _fields(shape)
    values = {name: read(query[name]) for name, (read, _) in fields.items() if query.get(name)}
    try:
        parsed = msgspec.convert(values, shape)
    except msgspec.ValidationError:
        numbers = {name: problem for name, (_, problem) in fields.items() if problem is not None}
        as_sent = {
            name: functools.partial(_as_sent, problem, query, name)
            if callable(problem)
            else problem
            for name, problem in {**numbers, **(problems or {})}.items()
        }
        parsed = decode(values, shape, as_sent, also)  # raises the field's 400
    if also is not None:  # what the type cannot hold
        for name in values:
            if problem := also(name, getattr(parsed, name)):
                raise invalid(name, problem)
    return parsed


def resumed(request: web.Request) -> Query:
    """The query of an event stream, ``Last-Event-ID`` (when sent) in place of
    ``?last_event_id=`` (a browser's ``EventSource`` can set no header of its own)."""
    resume = request.headers.get("Last-Event-ID")
    # ``request.query[key]`` is the first of repeated values, in the copy too
    return {**request.query, "last_event_id": resume} if resume else request.query


def _as_sent(problem: Callable[[object], str], query: Query, name: str, _: object) -> str:
    return problem(query.get(name))


def _read(convert: Callable[[str], object], raw: str) -> object:
    """``raw`` converted, or left as it is for msgspec to refuse with the field's name."""
    try:
        return convert(raw)
    except ValueError:
        return raw


def _flag(raw: str) -> object:
    return {"true": True, "1": True, "false": False, "0": False}.get(raw, raw)


def _kind(field: msgspec.inspect.Field) -> msgspec.inspect.Type:
    """The field's type, less ``| None`` and its description."""
    kind = field.type
    if isinstance(kind, msgspec.inspect.UnionType):
        kind = next(k for k in kind.types if not isinstance(k, msgspec.inspect.NoneType))
    while isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    return kind


@functools.cache
def _fields(
    shape: type[msgspec.Struct],
) -> dict[str, tuple[Callable[[str], object], Problem | None]]:
    """Each field's reader of the text sent, and for a number the problem said of it: an
    integer is not one or out of bounds; a duration (a float, in seconds) is not a number, or
    below 0 (NaN included)."""
    info = msgspec.inspect.type_info(shape)
    assert isinstance(info, msgspec.inspect.StructType)
    fields: dict[str, tuple[Callable[[str], object], Problem | None]] = {}
    for field in info.fields:
        kind = _kind(field)
        if isinstance(kind, msgspec.inspect.IntType):
            fields[field.name] = functools.partial(_read, int), integer(kind.ge, kind.le)
        elif isinstance(kind, msgspec.inspect.FloatType):
            fields[field.name] = functools.partial(_read, float), _seconds
        elif isinstance(kind, msgspec.inspect.BoolType):
            fields[field.name] = _flag, None
        else:
            fields[field.name] = str, None
    return fields


def integer(low: int | None, high: int | None) -> Problem:
    """An integer's problem: not one, or not between ``low`` and ``high``."""

    def problem(raw: object) -> str:
        try:
            int(str(raw))
        except ValueError:
            return "must be an integer"
        return f"must be between {low} and {high}"

    return problem


def _seconds(raw: object) -> str:
    try:
        float(str(raw))
    except ValueError:
        return "must be a number of seconds"
    return "must be >= 0"


def parameters(shape: type[msgspec.Struct], **bounds: dict[str, Any]) -> list[dict[str, Any]]:
    """The OpenAPI ``parameters`` (in the query) of ``shape``, in its field order; ``bounds``
    adds to a field's schema what depends on the settings (``expires_in={"maximum": n}``),
    its description included."""
    _, components = msgspec.json.schema_components(
        (shape,), ref_template="#/components/schemas/{name}"
    )
    schema = components[shape.__name__]
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        default = prop.pop("default", None)
        if "anyOf" in prop:  # ``X | None``: a query has no null
            (prop,) = (p for p in prop["anyOf"] if p != {"type": "null"})
        prop = {**prop, **bounds.get(name, {})}
        if default is not None:
            prop["default"] = default
        description = prop.pop("description", "")
        params.append(
            {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": prop,
                "description": description,
            }
        )
    return params
