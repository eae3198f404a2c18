"""A blueprint sent over HTTP: a YAML blueprint document, or a seed-003 workflow, never code.

``read`` turns a request body into a ``Submission`` (the Blueprint, what to store, and what
the answer shows), or raises ``Invalid`` with every problem, each with a path into the
document. ``from_record`` builds the same Blueprint again from what was stored, in any process.
Declarative only: a YAML document's actions are data (placeholders are paths, not code), and a
workflow compiles to such a document.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import yaml

from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.yaml_loader import load_yaml
from orchestrator.errors import BlueprintError
from orchestrator.workflows import seed
from orchestrator.workflows.build import Built, build, canonical, document_text

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")
RESERVED = frozenset({"jobs", "blueprints", "workers", "dashboard", "human-tasks", "internal"})
"""First path segments of /api/v1 that fixed routes own: no blueprint may answer there."""
_STATE = re.compile(r"\bstate '([^']+)'")
_LOCATED = re.compile(r"^[^:]*:(\d+): (?:state '([^']+)': )?(.*)$", re.DOTALL)

PROBLEM_KEYS = ("path", "message")


class Invalid(Exception):
    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{p['path']}: {p['message']}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Submission:
    blueprint: Blueprint
    kind: str
    """``yaml`` or ``workflow``."""
    source: str
    """What is stored: the YAML text, or the workflow as canonical JSON."""
    built: Built | None = None
    """For a workflow: its compiled document and temp_id mapping."""


def parse_body(raw: bytes, content_type: str) -> object:
    """The document in a request body: YAML for ``*yaml`` types, JSON otherwise."""
    if "python" in content_type:
        raise Invalid([_p("", "Python code is never accepted over HTTP: send YAML or JSON")])
    try:
        if "yaml" in content_type:
            return yaml.safe_load(raw.decode("utf-8"))
        return orjson.loads(raw)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise Invalid([_p("", f"not valid YAML: {exc}")]) from None
    except orjson.JSONDecodeError as exc:
        raise Invalid([_p("", f"not valid JSON: {exc}")]) from None


def read(
    raw: bytes,
    content_type: str,
    *,
    taken: Collection[str],
    routes: Mapping[tuple[str, str], str],
    known_task_types: Collection[str] | None,
) -> Submission:
    """``taken``: code-defined blueprint names; ``routes``: route → the blueprint answering it;
    ``known_task_types``: the task types workers offer (None: not checked)."""
    doc = parse_body(raw, content_type)
    if seed.is_seed(doc):
        try:
            built = build(doc, taken=taken)
        except seed.SeedInvalid as exc:
            raise Invalid([_p(path, message) for path, message in exc.problems]) from None
        except BlueprintError as exc:  # a compiled document that does not load: our bug
            raise Invalid([_p("", p) for p in exc.problems]) from None
        sub = Submission(built.blueprint, "workflow", canonical(doc).decode(), built)
    else:
        if "yaml" in content_type:
            text = raw.decode("utf-8")
        elif isinstance(doc, Mapping):
            text = yaml.safe_dump(dict(doc), sort_keys=False, allow_unicode=True)
        else:
            raise Invalid([_p("", "send a YAML blueprint document or a seed-003 workflow")])
        sub = Submission(_load(text), "yaml", text)
    problems = _placement(sub, taken, routes) + _task_types(sub, doc, known_task_types)
    if problems:
        raise Invalid(problems)
    return sub


def from_record(kind: str, source: str) -> tuple[Blueprint, Built | None]:
    """The blueprint a stored record describes (it was valid when stored)."""
    if kind == "workflow":
        built = build(orjson.loads(source))
        return built.blueprint, built
    return load_yaml(source if "\n" in source else source + "\n"), None


def definition(kind: str, source: str, built: Built | None) -> dict[str, Any]:
    """What ``GET /api/v1/blueprints/{name}`` shows of a version's content."""
    if built is None:
        return {"kind": kind, "yaml": source}
    return {
        "kind": kind,
        "workflow": orjson.loads(source),
        "yaml": document_text(built.compiled.document),
        "temp_id_mapping": built.compiled.steps,
    }


def _load(text: str) -> Blueprint:
    try:
        return load_yaml(text if "\n" in text else text + "\n")
    except BlueprintError as exc:
        raise Invalid([_located(p) for p in exc.problems]) from None
    except ValueError as exc:
        raise Invalid([_p("", str(exc))]) from None


def _located(problem: str) -> dict[str, Any]:
    """``<yaml>:12: state 'x': message`` → ``{"path": "states.x", "line": 12, ...}``."""
    match = _LOCATED.match(problem)
    if match is None:
        return _p("", problem)
    line, state, message = match.groups()
    named = state or _first_state(message)
    return {**_p(f"states.{named}" if named else "", message), "line": int(line)}


def _first_state(message: str) -> str | None:
    """The state a graph problem names (``state 'x' is unreachable ...``), if any."""
    found = _STATE.search(message)
    return found.group(1) if found else None


def _placement(
    sub: Submission, taken: Collection[str], routes: Mapping[tuple[str, str], str]
) -> list[dict[str, Any]]:
    bp = sub.blueprint
    where = "workflow.name" if sub.kind == "workflow" else "blueprint"
    found: list[dict[str, Any]] = []
    if not NAME.fullmatch(bp.name):
        found.append(_p(where, "a registered blueprint's name is 1-100 letters, digits, _ . -"))
    if bp.name in taken and sub.kind == "yaml":
        found.append(_p(where, f"{bp.name!r} is a code-defined blueprint; choose another name"))
    route = (bp.api_version, bp.api_endpoint)
    holder = routes.get(route)
    if holder is not None and holder != bp.name:
        found.append(
            _p(
                "api_endpoint" if sub.kind == "yaml" else where,
                f"/api/{route[0]}/{route[1]} is blueprint {holder!r}'s route",
            )
        )
    if bp.api_endpoint.split("/")[0] in RESERVED:
        found.append(_p("api_endpoint", f"/api/{route[0]}/{route[1]} is the API's own path"))
    return found


def task_types_of(doc: object) -> list[tuple[str, str]]:
    """(path, task type) of every task a YAML document dispatches."""
    found: list[tuple[str, str]] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                here = f"{path}.{key}" if path else str(key)
                if key == "task_type" and isinstance(value, str):
                    found.append((here, value))
                else:
                    walk(value, here)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")

    walk(doc.get("states") if isinstance(doc, Mapping) else None, "states")
    return found


def _task_types(
    sub: Submission, doc: object, known: Collection[str] | None
) -> list[dict[str, Any]]:
    if known is None or sub.kind != "yaml":
        return []
    return [
        _p(path, f"no worker offers task type {task_type!r} (known: {', '.join(sorted(known))})")
        for path, task_type in task_types_of(doc)
        if task_type not in known
    ]


def _p(path: str, message: str) -> dict[str, Any]:
    return {"path": path, "message": message}
