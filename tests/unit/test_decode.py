"""``decode``: a refused body is answered for its first broken field in the Struct's order."""

from __future__ import annotations

import msgspec
import pytest

from orchestrator.api.decode import decode
from orchestrator.errors import BadRequest


class Inner(msgspec.Struct):
    a: int = 0
    b: int = 0


class Shape(msgspec.Struct):
    first: int
    second: str = ""
    inner: Inner | None = None


PROBLEMS = {"first": "must be an int", "second": "must be text", "inner.a": "a!", "inner.b": "b!"}


def refusal(body: object) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        decode(body, Shape, PROBLEMS)
    return caught.value


def test_a_good_body_is_decoded() -> None:
    assert decode({"first": 1, "extra": 2}, Shape, PROBLEMS) == Shape(first=1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"second": 3, "first": "x"}, "first"),
        ({"second": 3}, "first"),
        ({"inner": {"b": "x", "a": "y"}, "first": 1}, "inner.a"),
        ({"inner": {"b": "x"}, "second": 1, "first": 1}, "second"),
    ],
)
def test_the_first_broken_field_in_struct_order_is_named(body: object, field: str) -> None:
    error = refusal(body)
    assert (error.code, error.details) == ("VALIDATION_ERROR", {"field": field})
    assert error.message == f"{field}: {PROBLEMS[field]}"


def test_a_field_without_a_problem_is_still_a_400() -> None:
    with pytest.raises(BadRequest) as caught:
        decode({"first": "x"}, Shape, {})
    assert caught.value.message == "first: is invalid"


def test_not_an_object() -> None:
    error = refusal([1])
    assert (error.message, error.details) == ("the body must be a JSON object", {})
