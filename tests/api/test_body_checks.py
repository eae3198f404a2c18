"""Every checked body gets the answer the hand-written validators gave it (``body_cases.py``):
the same value, or the same error code, message and ``details.field``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.names import NAME
from tests.api.body_cases import CHECKS, answer, validators
from worker_sdk.protocol import NAME_PATTERN

RECORDED: dict[str, list[dict[str, Any]]] = json.loads(CHECKS.read_text())
CASES = [(name, i) for name, cases in RECORDED.items() for i in range(len(cases))]


def test_every_validator_is_recorded() -> None:
    assert set(RECORDED) == set(validators())


@pytest.mark.parametrize(("name", "index"), CASES)
def test_same_answer(name: str, index: int) -> None:
    case = RECORDED[name][index]
    check, _ = validators()[name]
    # As JSON text: 611 and 611.0 are equal in Python, not on the wire.
    got = json.dumps(answer(check, case["body"]), sort_keys=True)
    assert got == json.dumps(case["answer"], sort_keys=True), case["body"]


def test_names_in_bodies_are_the_names_keys_take() -> None:
    # The engine must not import worker_sdk (it would load aiohttp): two spellings, one rule.
    assert NAME.pattern + "(?!\\n)" == NAME_PATTERN
