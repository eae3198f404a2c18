"""Blueprints: the Python DSL, load-time validation, graphs and the registry."""

from orchestrator.blueprint.dsl import Blueprint, State
from orchestrator.blueprint.registry import BlueprintRegistry

__all__ = ["Blueprint", "BlueprintRegistry", "State"]
