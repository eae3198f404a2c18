"""The answers about blueprints: the catalogue, a registered blueprint, its graph."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, UnsetType

from orchestrator.api.answers import Answer


class BlueprintRoute(Answer):
    kind: Literal["start", "action", "read"]
    method: str
    path: str


class Blueprint(Answer):
    name: str
    version: str
    endpoint: Annotated[str, Meta(examples=["/api/v1/greeting"])]
    states: list[str]
    start: str
    end: list[str]
    source: Literal["file", "registered"] | UnsetType = UNSET
    versions: list[str] | UnsetType = UNSET
    routes: (
        Annotated[
            list[BlueprintRoute],
            Meta(description="The routes the blueprint declares (docs/blueprints.md)."),
        ]
        | UnsetType
    ) = UNSET


class BlueprintGraph(Answer):
    start: str
    end: list[str]
    states: list[str]
    edges: list[list[str]]
    dot: Annotated[str, Meta(description="Graphviz DOT source.")]


class RegisteredBlueprint(Answer):
    name: str
    version: Annotated[str, Meta(description="Content hash, as for file blueprints.")]
    kind: Literal["yaml", "workflow"]
    changed: Annotated[bool, Meta(description="False: this content was current already.")]
    endpoint: Annotated[str, Meta(description="Where jobs (tickets) start: POST here.")]
    versions: list[str]
    graph: BlueprintGraph
    temp_id_mapping: (
        Annotated[dict[str, str], Meta(description="For a workflow: temp_id → the step it became.")]
        | UnsetType
    ) = UNSET
    nodes: list[dict[str, Any]] | UnsetType = UNSET


class BlueprintDetail(Answer):
    name: str
    source: Literal["file", "registered"]
    version: str
    endpoint: str
    versions: list[Any]
    graph: BlueprintGraph
    kind: Literal["yaml", "workflow"] | UnsetType = UNSET
    current: str | UnsetType = UNSET
    retired: bool | UnsetType = UNSET
    definition: (
        Annotated[dict[str, Any], Meta(description="The version's YAML (and workflow).")]
        | UnsetType
    ) = UNSET


class BlueprintRetired(Answer):
    name: str
    retired: Literal[True]
    changed: bool
    versions: list[str]


BLUEPRINT_ANSWERS = (Blueprint, RegisteredBlueprint, BlueprintDetail, BlueprintRetired)
