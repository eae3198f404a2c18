"""The Lua scripts check and write the statuses Python gives them (``codec.LEASED``,
``codec.RESULT_RECORDED``, ``codec.ENDED``): no script spells one, so the engine's names live in
one place."""

from __future__ import annotations

import re

import pytest

from orchestrator.engine.model import TERMINAL, TaskStatus
from orchestrator.storage import codec, scripts
from orchestrator.storage.scripts import Scripts

STATUSES = sorted({*(s.value for s in TaskStatus), codec.BRANCH_DONE})


@pytest.mark.parametrize("name", sorted(Scripts.__dataclass_fields__))
def test_no_script_spells_a_task_status(name: str) -> None:
    source = scripts.source(name)

    # ``p .. 'leased'`` is a field (when the task was leased), not a status.
    spelled = [s for s in STATUSES if re.search(rf"""(?<!\.\. )['"]{s}['"]""", source)]

    assert spelled == []


@pytest.mark.parametrize("name", sorted(Scripts.__dataclass_fields__))
def test_no_script_spells_a_job_status(name: str) -> None:
    # The terminal statuses come as arguments too (``codec.ENDED``): a status added to or
    # dropped from the engine cannot leave a script a list of its own (it had ``error``).
    code = "\n".join(line.split("--")[0] for line in scripts.source(name).splitlines())
    words = set(re.findall(r"[A-Za-z_]+", code))

    assert words & {*(s.value for s in TERMINAL), "error"} == set()


def test_the_ended_arguments_are_the_terminal_statuses_then_their_count() -> None:
    *statuses, count = codec.ENDED

    assert set(statuses) == {s.value for s in TERMINAL}
    assert int(count) == len(statuses)
