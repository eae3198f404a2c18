"""The package surface and its size budget."""

from __future__ import annotations

from pathlib import Path

import worker_sdk

PUBLIC = [
    "JobFiles",
    "RetryLater",
    "TaskContext",
    "TaskError",
    "TaskResult",
    "Worker",
    "WorkerSettings",
]


def test_public_api_is_listed_and_sorted() -> None:
    assert worker_sdk.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(worker_sdk, name).__doc__, f"{name} has no docstring"


def test_modules_stay_under_400_lines() -> None:
    package = Path(worker_sdk.__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in package.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 400} == {}
