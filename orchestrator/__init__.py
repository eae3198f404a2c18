"""Blueprint orchestrator: jobs through state-machine blueprints, tasks to workers over Redis."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.blueprint.conditions import where
from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.config import Settings
from orchestrator.engine.actions import Actions
from orchestrator.engine.model import JobStatus, RetryPolicy
from orchestrator.errors import BlueprintError, OrchestratorError

if TYPE_CHECKING:
    from orchestrator.app import create_app

__all__ = [
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


def __getattr__(name: str) -> Any:
    # The web layer (aiohttp, redis) loads only when asked for, so that importing the pure core
    # (``orchestrator.engine``, ``orchestrator.blueprint``) stays free of I/O libraries.
    if name == "create_app":
        from orchestrator.app import create_app

        return create_app
    raise AttributeError(f"module 'orchestrator' has no attribute {name!r}")
