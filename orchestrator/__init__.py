"""Blueprint orchestrator: jobs through state-machine blueprints, tasks to workers over Redis."""

from orchestrator.app import create_app
from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.config import Settings
from orchestrator.engine.actions import Actions
from orchestrator.engine.model import JobStatus, RetryPolicy
from orchestrator.errors import BlueprintError, OrchestratorError

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
]
