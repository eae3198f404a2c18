"""Seed 003's workflow format, read and checked in full: every problem at once, each with a path.

The document, with the seed's own field names::

    {"workflow": {"name": "IT Support Request", "description": ..., "category": ...,
                  "sub_category": ..., "department": ...,
                  "low_sla": "72:00:00", "medium_sla": "48:00:00",
                  "high_sla": "24:00:00", "urgent_sla": "04:00:00"},
     "graph": {"nodes": [{"temp_id": "node_1", "name": "Triage", "role_id": 2,
                          "is_start": true, "weight": 0.3, "escalate_to": 5}, ...],
               "edges": [{"from_temp_id": "node_1", "to_temp_id": "node_2",
                          "name": "Assign"}, ...]}}

``read`` returns a ``Workflow`` or raises ``SeedInvalid`` whose ``problems`` are
``(path, message)`` pairs such as ``("graph.nodes[2].temp_id", "duplicate temp_id 'n1' ...")``.
Nothing here does I/O: the caller passes the names it must not clash with.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

PRIORITIES = ("Low", "Medium", "High", "Urgent")
"""A ticket's priorities, each picking the workflow SLA named after it (``low_sla`` ...)."""

SLA_FIELDS = {p: f"{p.lower()}_sla" for p in PRIORITIES}
WORKFLOW_TEXT = ("description", "category", "sub_category", "department")
NODE_KEYS = ("temp_id", "name", "role_id", "is_start", "is_end", "weight", "escalate_to")
# The seed's Step Object carries these too; they are kept as text for people, never acted on.
NODE_EXTRA = ("description", "instruction", "role_name", "order", "design", "step_id")
EDGE_KEYS = ("from_temp_id", "to_temp_id", "name")
EDGE_EXTRA = ("description", "transition_id")

# Roles end up in Redis keys (the human inbox's indexes): plain characters only, as there.
_ROLE = re.compile(r"[A-Za-z0-9_.:@+\-]{1,128}")
# Hours may exceed 24 (the seed's low_sla is "72:00:00"); minutes and seconds may not exceed 59.
_SLA = re.compile(r"(\d{1,6}):([0-5]\d):([0-5]\d)")

ROLE_RULE = "must be a role id: a whole number, or 1-128 letters, digits or '_ . : @ + -'"

Problem = tuple[str, str]
"""(path, message): ``path`` points into the document, e.g. ``graph.edges[0].to_temp_id``."""


class SeedInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))
        self.problems = problems


@dataclass(frozen=True)
class Node:
    index: int
    temp_id: str
    name: str
    role: str
    """``role_id`` as text: the human step's role."""
    is_start: bool
    is_end: bool
    weight: float
    escalate_to: str | None
    instruction: str | None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    name: str


@dataclass(frozen=True)
class Workflow:
    name: str
    """The seed's name, as people read it (``IT Support Request``)."""
    text: dict[str, str]
    """description, category, sub_category, department: whichever the seed gave."""
    slas: dict[str, int | None]
    """Priority → SLA in seconds; None when the seed gives none for that priority."""
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def node(self, temp_id: str) -> Node:
        return next(n for n in self.nodes if n.temp_id == temp_id)

    def out(self, temp_id: str) -> list[Edge]:
        """The edges leaving a node, in the order the seed lists them."""
        return [e for e in self.edges if e.source == temp_id]

    @property
    def start(self) -> Node:
        return next(n for n in self.nodes if n.is_start)


def is_seed(doc: object) -> bool:
    """Whether a parsed request body is a seed-003 workflow rather than a YAML blueprint."""
    return isinstance(doc, Mapping) and "workflow" in doc and "blueprint" not in doc


def parse_sla(text: object) -> int | None:
    """Seconds of an ``HH:MM:SS`` SLA (hours unbounded), or None when it is not one."""
    if not isinstance(text, str):
        return None
    match = _SLA.fullmatch(text)
    if match is None:
        return None
    hours, minutes, seconds = (int(g) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def slug(name: str) -> str:
    """A workflow's blueprint name and route: ``IT Support Request`` → ``it-support-request``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def read(doc: object, *, taken: Collection[str] = ()) -> Workflow:
    """Check ``doc`` in full; ``taken`` are blueprint names it must not clash with."""
    checker = _Checker(taken)
    workflow = checker.check(doc)
    if checker.problems or workflow is None:
        raise SeedInvalid(checker.problems)
    return workflow


class _Checker:
    def __init__(self, taken: Collection[str]) -> None:
        self.taken = taken
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def check(self, doc: object) -> Workflow | None:
        if not isinstance(doc, Mapping):
            self.add("", "a workflow is an object with 'workflow' and 'graph'")
            return None
        self._keys(doc, "", ("workflow", "graph"), ())
        meta = doc.get("workflow")
        graph = doc.get("graph")
        name, text, slas = self._workflow(meta) if isinstance(meta, Mapping) else ("", {}, {})
        if not isinstance(meta, Mapping) and "workflow" in doc:
            self.add("workflow", "must be an object")
        if not isinstance(graph, Mapping):
            if "graph" in doc:
                self.add("graph", "must be an object with 'nodes' and 'edges'")
            return None
        self._keys(graph, "graph", ("nodes", "edges"), ())
        nodes = self._nodes(graph.get("nodes"))
        edges = self._edges(graph.get("edges"), nodes)
        if nodes is None or edges is None:
            return None
        self._shape(nodes, edges)
        if self.problems:
            return None
        return Workflow(name, text, slas, tuple(nodes), tuple(e for e, _ in edges))

    def _keys(
        self, obj: Mapping[Any, Any], path: str, required: tuple[str, ...], extra: tuple[str, ...]
    ) -> None:
        prefix = f"{path}." if path else ""
        for key in required:
            if key not in obj:
                self.add(f"{prefix}{key}", "is required")
        for key in obj:
            if key not in required and key not in extra:
                allowed = ", ".join((*required, *extra))
                self.add(f"{prefix}{key}", f"unknown field (allowed: {allowed})")

    def _workflow(self, meta: Mapping[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
        self._keys(meta, "workflow", ("name",), (*WORKFLOW_TEXT, *SLA_FIELDS.values()))
        name = meta.get("name")
        if "name" in meta and (not isinstance(name, str) or not slug(name)):
            self.add("workflow.name", "must be a string with at least one letter or digit")
            name = ""
        elif isinstance(name, str) and slug(name) in self.taken:
            self.add(
                "workflow.name",
                f"{name!r} becomes blueprint {slug(name)!r}, which a code-defined blueprint "
                "already is; choose another name",
            )
        text: dict[str, str] = {}
        for key in WORKFLOW_TEXT:
            if key in meta:
                if isinstance(meta[key], str):
                    text[key] = meta[key]
                else:
                    self.add(f"workflow.{key}", "must be a string")
        slas: dict[str, int | None] = {}
        for priority, key in SLA_FIELDS.items():
            value = meta.get(key)
            seconds = parse_sla(value)
            if value is not None and (seconds is None or seconds == 0):
                self.add(
                    f"workflow.{key}",
                    f"must be a duration HH:MM:SS above zero (hours may exceed 24), not {value!r}",
                )
            slas[priority] = seconds or None
        return (name if isinstance(name, str) else ""), text, slas

    def _nodes(self, raw: object) -> list[Node] | None:
        if not isinstance(raw, list) or not raw:
            self.add("graph.nodes", "must be a non-empty list of nodes")
            return None
        nodes: list[Node] = []
        seen_ids: dict[str, int] = {}
        seen_names: dict[str, int] = {}
        for i, item in enumerate(raw):
            path = f"graph.nodes[{i}]"
            if not isinstance(item, Mapping):
                self.add(path, "must be an object")
                continue
            self._keys(item, path, ("temp_id", "name", "role_id", "weight"), NODE_EXTRA + NODE_KEYS)
            node = self._node(i, item, path)
            if node is None:
                continue
            if node.temp_id in seen_ids:
                self.add(
                    f"{path}.temp_id",
                    f"duplicate temp_id {node.temp_id!r} "
                    f"(also graph.nodes[{seen_ids[node.temp_id]}])",
                )
                continue
            seen_ids[node.temp_id] = i
            if node.name in seen_names:
                self.add(
                    f"{path}.name",
                    f"duplicate node name {node.name!r} (also "
                    f"graph.nodes[{seen_names[node.name]}]): each node is a step, named after it",
                )
            seen_names[node.name] = i
            nodes.append(node)
        return nodes

    def _node(self, i: int, item: Mapping[str, Any], path: str) -> Node | None:
        temp_id, name = item.get("temp_id"), item.get("name")
        for key, value in (("temp_id", temp_id), ("name", name)):
            if key in item and not _text(value):
                self.add(f"{path}.{key}", "must be a non-empty string")
        role = _role(item.get("role_id"))
        if "role_id" in item and role is None:
            self.add(f"{path}.role_id", ROLE_RULE)
        escalate_to = _role(item.get("escalate_to"))
        if item.get("escalate_to") is not None and escalate_to is None:
            self.add(f"{path}.escalate_to", ROLE_RULE)
        flags = {}
        for key in ("is_start", "is_end"):
            flags[key] = item.get(key, False)
            if not isinstance(flags[key], bool):
                self.add(f"{path}.{key}", "must be true or false")
                flags[key] = False
        weight = _weight(item.get("weight"))
        if "weight" in item and weight is None:
            self.add(f"{path}.weight", f"must be a number in (0, 1], not {item['weight']!r}")
        instruction = item.get("instruction")
        if not (_text(temp_id) and _text(name)):
            return None
        # A node with a bad role or weight still counts in the graph checks (its problems are
        # recorded already), so that one typo does not also make its edges point nowhere.
        return Node(
            index=i,
            temp_id=str(temp_id),
            name=str(name).strip(),
            role=role or "",
            is_start=bool(flags["is_start"]),
            is_end=bool(flags["is_end"]),
            weight=weight or 1.0,
            escalate_to=escalate_to,
            instruction=instruction if isinstance(instruction, str) else None,
        )

    def _edges(self, raw: object, nodes: list[Node] | None) -> list[tuple[Edge, int]] | None:
        if not isinstance(raw, list):
            self.add("graph.edges", "must be a list of edges")
            return None
        known = {n.temp_id for n in nodes or ()}
        edges: list[tuple[Edge, int]] = []
        names: dict[tuple[str, str], int] = {}
        for i, item in enumerate(raw):
            path = f"graph.edges[{i}]"
            if not isinstance(item, Mapping):
                self.add(path, "must be an object")
                continue
            self._keys(item, path, EDGE_KEYS, EDGE_EXTRA)
            values = {k: item.get(k) for k in EDGE_KEYS}
            bad = [k for k, v in values.items() if k in item and not _text(v)]
            for key in bad:
                self.add(f"{path}.{key}", "must be a non-empty string")
            if bad or any(k not in item for k in EDGE_KEYS):
                continue
            edge = Edge(
                str(values["from_temp_id"]), str(values["to_temp_id"]), str(values["name"]).strip()
            )
            for key, ref in (("from_temp_id", edge.source), ("to_temp_id", edge.target)):
                if nodes is not None and ref not in known:
                    self.add(f"{path}.{key}", f"no node has temp_id {ref!r}")
            if (edge.source, edge.name) in names:
                first = names[(edge.source, edge.name)]
                self.add(
                    f"{path}.name",
                    f"duplicate edge name {edge.name!r} out of {edge.source!r} (also "
                    f"graph.edges[{first}]): a step's decisions must differ",
                )
                continue
            names[(edge.source, edge.name)] = i
            edges.append((edge, i))
        return edges

    def _shape(self, nodes: list[Node], edges: list[tuple[Edge, int]]) -> None:
        starts = [n for n in nodes if n.is_start]
        if not starts:
            self.add("graph.nodes", "no start node (mark one with is_start: true)")
        for extra in starts[1:]:
            first = starts[0]
            self.add(
                f"graph.nodes[{extra.index}].is_start",
                f"more than one start node: {first.temp_id!r} (graph.nodes[{first.index}]) and "
                f"{extra.temp_id!r}",
            )
        if not any(n.is_end for n in nodes):
            self.add("graph.nodes", "no end node (mark at least one with is_end: true)")
        leaving: dict[str, list[int]] = {}
        for edge, i in edges:
            leaving.setdefault(edge.source, []).append(i)
        for node in nodes:
            out = leaving.get(node.temp_id, [])
            if node.is_end and out:
                listed = ", ".join(f"graph.edges[{i}]" for i in out)
                self.add(
                    f"graph.nodes[{node.index}].is_end",
                    f"end node {node.temp_id!r} has outgoing edges ({listed}); an end node's one "
                    "decision is 'complete'",
                )
            if not node.is_end and not out:
                self.add(
                    f"graph.nodes[{node.index}]",
                    f"node {node.temp_id!r} is not an end node and has no outgoing edge",
                )
        if len(starts) == 1:
            known = {n.temp_id for n in nodes}
            joined = [e for e, _ in edges if e.source in known and e.target in known]
            reached = _reachable(starts[0].temp_id, joined)
            for node in nodes:
                if node.temp_id not in reached:
                    self.add(
                        f"graph.nodes[{node.index}]",
                        f"node {node.temp_id!r} cannot be reached from the start node "
                        f"{starts[0].temp_id!r}",
                    )


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _weight(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 < value <= 1 else None


def _role(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and _ROLE.fullmatch(value):
        return value
    return None


def _reachable(start: str, edges: list[Edge]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        here = todo.pop()
        for edge in edges:
            if edge.source == here and edge.target not in seen:
                seen.add(edge.target)
                todo.append(edge.target)
    return seen
