"""names.py: the names that may go inside keys."""

from __future__ import annotations

import pytest

from orchestrator.names import check_name


@pytest.mark.parametrize("name", ["echo", "send_email", "w-1.eu:2", "A" * 128])
def test_plain_names_pass(name: str) -> None:
    assert check_name("task type", name) == name


@pytest.mark.parametrize(
    "name",
    ["", "a b", "{tag}", "a}", "a{", "x\n", "tab\tbed", "slash/ed", "ä", "A" * 129, "a|b"],
)
def test_names_that_would_break_keys_are_refused(name: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_name("worker id", name)

    assert f"worker id {name!r}" in str(caught.value)
