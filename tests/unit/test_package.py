"""The orchestrator's public surface: what ``import orchestrator`` promises."""

from __future__ import annotations

import orchestrator
import worker_sdk.errors

PUBLIC = [
    "Actions",
    "Blueprint",
    "BlueprintError",
    "BlueprintRegistry",
    "JobStatus",
    "OrchestratorError",
    "RetryPolicy",
    "Settings",
    "create_app",
    "where",
]


def test_public_api_is_listed_and_sorted() -> None:
    assert orchestrator.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(orchestrator, name).__doc__, f"{name} has no docstring"


def test_an_unknown_name_is_an_attribute_error() -> None:
    assert not hasattr(orchestrator, "create_ap")


def test_the_sdk_error_has_a_name_of_its_own_and_keeps_the_old_one() -> None:
    """``worker_sdk.errors.OrchestratorError`` was the SDK's name for an error answer."""
    assert worker_sdk.errors.ApiError.__name__ != orchestrator.OrchestratorError.__name__
    assert worker_sdk.errors.OrchestratorError is worker_sdk.errors.ApiError
