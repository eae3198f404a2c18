"""A request body decoded into its Struct, and msgspec's refusal told as our 400.

msgspec names the broken spot as a path (``$.error.retry_after_s``, ``$.tags[1]``); the
answer keeps the message of the hand-written checks this replaced, which clients and tests
match on: ``"<field>: <problem>"`` with ``details.field``, the problem chosen per field.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec
import msgspec.inspect

from orchestrator.errors import BadRequest

T = TypeVar("T", bound=msgspec.Struct)

Problem = str | Callable[[object], str]
"""What is wrong with a field: fixed text, or text made from the refused value."""

_MISSING = re.compile(r"missing required field `([^`]+)`")
_UNKNOWN = re.compile(r"contains unknown field `([^`]+)`")
_INDEX = re.compile(r"\[[^\]]*\]")


def invalid(field: str, problem: str) -> BadRequest:
    return BadRequest(f"{field}: {problem}", code="VALIDATION_ERROR", details={"field": field})


def not_object(what: str = "the body") -> BadRequest:
    return BadRequest(f"{what} must be a JSON object", code="VALIDATION_ERROR")


Also = Callable[[str, object], str | None]
"""A field's check the type cannot hold (one that depends on the settings): its problem or
None. The caller runs it on a decoded body; ``decode`` runs it in field order on a refused one."""


def decode(
    body: object, shape: type[T], problems: Mapping[str, Problem], also: Also | None = None
) -> T:
    """``body`` (parsed JSON) as a ``shape``; a refusal names the first broken field in the
    Struct's field order, as the hand checks did, with its problem from ``problems``."""
    try:
        return msgspec.convert(body, shape)
    except msgspec.ValidationError as exc:
        refusal = exc
    if not isinstance(body, dict):
        raise not_object()
    raise _first_problem(body, shape, problems, also) or _unexpected(refusal, problems)


def _first_problem(
    body: dict[str, Any],
    shape: type[msgspec.Struct],
    problems: Mapping[str, Problem],
    also: Also | None,
) -> BadRequest | None:
    fields = shape.__struct_fields__
    if shape.__struct_config__.forbid_unknown_fields:
        unknown = sorted(set(body) - set(fields))
        if unknown:
            allowed = ", ".join(sorted(fields))
            return invalid(unknown[0], f"unknown field (allowed: {allowed})")
    # msgspec reports the first broken field in the body's order and a missing one last:
    # one field at a time, in the Struct's order, finds the field the hand checks named.
    nested = _nested(shape)
    for index, name in enumerate(fields):
        head = {
            key: _in_order(body[key], nested.get(key)) for key in fields[: index + 1] if key in body
        }
        try:
            msgspec.convert(head, shape)
        except msgspec.ValidationError as exc:
            field = _field(str(exc))
            if field is not None and field.split(".")[0] == name:
                return _answer(field, body, problems)
        if also is not None and name in body and (problem := also(name, body[name])):
            return invalid(name, problem)
    return None


def _in_order(value: object, order: tuple[str, ...] | None) -> object:
    """A nested object with its members in its Struct's field order, so its first broken
    member is the one the hand checks named, whichever order the client wrote them in."""
    if order is None or not isinstance(value, dict):
        return value
    rank = {name: index for index, name in enumerate(order)}
    return {key: value[key] for key in sorted(value, key=lambda k: rank.get(k, len(rank)))}


@functools.cache
def _nested(shape: type[msgspec.Struct]) -> dict[str, tuple[str, ...]]:
    """The field order of each field of ``shape`` that is a Struct (or a Struct or null)."""
    orders = {}
    info = msgspec.inspect.type_info(shape)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        kinds = (
            field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else (field.type,)
        )
        for kind in kinds:
            if isinstance(kind, msgspec.inspect.StructType):
                orders[field.name] = tuple(f.name for f in kind.fields)
    return orders


def _field(message: str) -> str | None:
    """The dotted field a msgspec message is about, list indexes and dict keys left out."""
    text, _, path = message.rpartition(" - at `$")
    if not text:
        text, path = message, ""
    parts = [p for p in _INDEX.sub("", path.rstrip("`")).split(".") if p]
    if (missing := _MISSING.search(text)) is not None:
        parts.append(missing.group(1))
    elif _UNKNOWN.search(text) is not None:
        return None
    return ".".join(parts) or None


def _unexpected(refusal: msgspec.ValidationError, problems: Mapping[str, Problem]) -> BadRequest:
    """A refusal no field of ``problems`` explains (a rule added to a Struct without its
    problem): still a 400 naming the spot, in msgspec's words, never a 500."""
    field = _field(str(refusal)) or "body"
    return invalid(field, str(refusal))


def _answer(field: str, body: dict[str, Any], problems: Mapping[str, Problem]) -> BadRequest:
    problem = problems.get(field, "is invalid")
    if callable(problem):
        value: object = body
        for part in field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        problem = problem(value)
    return invalid(field, problem)
