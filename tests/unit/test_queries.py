"""api/queries.py: a query string read into its Struct as the handlers read it, and the
OpenAPI parameters of the same Struct."""

from __future__ import annotations

from typing import Annotated

import pytest
from msgspec import Meta, Struct
from multidict import MultiDict, MultiDictProxy

from orchestrator.api import queries
from orchestrator.errors import BadRequest


class Page(Struct, kw_only=True):
    name: Annotated[str, Meta(pattern="^[a-z]+$", description="A name.")]
    limit: Annotated[int, Meta(ge=1, le=10)] = 5
    wait: Annotated[float, Meta(ge=0)] | None = None
    deep: bool = False


def query(*pairs: tuple[str, str]) -> MultiDictProxy[str]:
    return MultiDictProxy(MultiDict(pairs))


def refusal(*pairs: tuple[str, str]) -> tuple[str, str]:
    with pytest.raises(BadRequest) as refused:
        queries.parse(query(*pairs), Page, {"name": lambda raw: f"not a name: {raw!r}"})
    return refused.value.details["field"], str(refused.value)


def test_read_as_the_handlers_always_read_it() -> None:
    got = queries.parse(
        query(("name", "ab"), ("limit", "05"), ("limit", "x"), ("wait", ""), ("other", "1")), Page
    )
    # the first of repeated values, Python's int(), empty is absent, unknown is ignored
    assert got == Page(name="ab", limit=5, wait=None, deep=False)
    assert queries.parse(query(("name", "a"), ("deep", "1"), ("wait", "1e-3")), Page).deep


def test_a_refusal_names_the_first_broken_field_in_the_structs_order() -> None:
    assert refusal(("limit", "0"), ("name", "A")) == ("name", "name: not a name: 'A'")
    assert refusal(("limit", "0")) == ("name", "name: not a name: None")  # missing: as sent
    assert refusal(("name", "a"), ("wait", "-1"), ("limit", "5.0")) == (
        "limit",
        "limit: must be an integer",
    )
    assert refusal(("name", "a"), ("limit", "11")) == ("limit", "limit: must be between 1 and 10")
    assert refusal(("name", "a"), ("wait", "nan")) == ("wait", "wait: must be >= 0")
    assert refusal(("name", "a"), ("deep", "yes"))[0] == "deep"


def test_the_parameters_are_the_structs_fields() -> None:
    params = queries.parameters(Page, limit={"maximum": 8, "description": "At most 8."})
    assert [(p["name"], p["in"], p["required"]) for p in params] == [
        ("name", "query", True),
        ("limit", "query", False),
        ("wait", "query", False),
        ("deep", "query", False),
    ]
    name, limit, wait, _ = params
    assert (name["schema"], name["description"]) == (
        {"type": "string", "pattern": "^[a-z]+$"},
        "A name.",
    )
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 8, "default": 5}
    assert limit["description"] == "At most 8."
    assert wait["schema"] == {"type": "number", "minimum": 0}  # a query has no null
