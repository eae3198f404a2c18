"""The Lua scripts check and write the task statuses Python gives them (``codec.LEASED``,
``codec.RESULT_RECORDED``): no script spells one, so the engine's names live in one place."""

from __future__ import annotations

import re

import pytest

from orchestrator.engine.model import TaskStatus
from orchestrator.storage import codec, scripts
from orchestrator.storage.scripts import Scripts

STATUSES = sorted({*(s.value for s in TaskStatus), codec.BRANCH_DONE})


@pytest.mark.parametrize("name", sorted(Scripts.__dataclass_fields__))
def test_no_script_spells_a_task_status(name: str) -> None:
    source = scripts.source(name)

    # ``p .. 'leased'`` is a field (when the task was leased), not a status.
    spelled = [s for s in STATUSES if re.search(rf"""(?<!\.\. )['"]{s}['"]""", source)]

    assert spelled == []
