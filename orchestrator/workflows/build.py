"""A seed-003 workflow, end to end: checked, compiled to a YAML document, loaded as a Blueprint.

The document holds everything the seed configures, so the blueprint's version is the version
of that YAML file: the same workflow gives the same version whether it is shipped as a file or
registered over HTTP. The closing state's result is the one thing a document cannot compute
(the path a ticket took, across loops, from its history), so after loading, that state's
handler is replaced by ``report.ticket_report``; its declared ``result`` is kept and merged in.
"""

from __future__ import annotations

import dataclasses
import inspect
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

from orchestrator.blueprint import templates
from orchestrator.blueprint.dsl import Blueprint, Handler
from orchestrator.blueprint.yaml_loader import load_yaml
from orchestrator.errors import BlueprintError
from orchestrator.workflows import seed
from orchestrator.workflows.compile import Compiled, compile_workflow
from orchestrator.workflows.report import ticket_report

SUFFIX = ".workflow.yaml"
"""Shipped seed-003 workflows end so, beside plain YAML blueprints."""

_COMPILED: weakref.WeakKeyDictionary[Blueprint, Compiled] = weakref.WeakKeyDictionary()
"""What each workflow blueprint was compiled from: the ticket routes name a step by the
seed's ``temp_id`` (``api/tickets.py``). Weak, so a retired version's entry goes with it."""


def compiled_of(bp: Blueprint) -> Compiled | None:
    """The compiled workflow behind ``bp``, or None when ``bp`` is not a ticket workflow."""
    return _COMPILED.get(bp)


@dataclass(frozen=True)
class Built:
    workflow: seed.Workflow
    compiled: Compiled
    blueprint: Blueprint


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # people read this text: every step spelled out, no &id001 anchors


def document_text(document: dict[str, Any]) -> str:
    """The YAML text of a compiled document (what ``GET /api/v1/blueprints/{name}`` shows)."""
    return str(yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100))


def build(doc: object, *, taken: Collection[str] = ()) -> Built:
    """Check ``doc`` (``seed.SeedInvalid`` lists every problem), compile it and load it."""
    workflow = seed.read(doc, taken=taken)
    compiled = compile_workflow(workflow)
    bp = load_yaml(document_text(compiled.document))
    _attach_report(bp, workflow, compiled)
    _COMPILED[bp] = compiled
    return Built(workflow, compiled, bp)


def load_file(path: str | Path) -> Built:
    """A shipped workflow: the seed's JSON shape, written as YAML."""
    text = Path(path).read_text(encoding="utf-8")
    return build(yaml.safe_load(text))


def workflow_file(path: Path) -> Blueprint:
    """``load_file`` for ``--blueprints``: a broken workflow is a ``BlueprintError`` there."""
    try:
        return load_file(path).blueprint
    except seed.SeedInvalid as exc:
        listed = [f"{path}: {where}: {message}" for where, message in exc.problems]
        raise BlueprintError(path.name, listed) from None


def _attach_report(bp: Blueprint, workflow: seed.Workflow, compiled: Compiled) -> None:
    state = bp.states[compiled.closed]
    declared = compiled.document["states"][compiled.closed]["result"]
    steps = frozenset(compiled.steps.values())

    async def closed(
        job_id: str, initial_data: dict[str, Any], history: list[dict[str, Any]]
    ) -> dict[str, Any]:
        priority = str(initial_data.get("priority"))
        entered = [e for e in history if e.get("type") == "state_entered"]
        # the time the ticket entered this state: the same on every run of the handler
        closed_at = float(entered[-1]["at"]) if entered else 0.0
        report = ticket_report(
            history,
            steps=steps,
            due=compiled.due.get(priority, {}),
            sla_s=workflow.slas.get(priority),
            closed_at=closed_at,
        )
        base = templates.render(declared, {"initial_data": initial_data, "job_id": job_id})
        return {**base, "priority": priority, **report}

    closed.__name__ = closed.__qualname__ = compiled.closed
    old = state.handlers[-1]
    params = tuple(inspect.signature(closed).parameters.values())
    # the YAML state's source stays what the version hashes, so the version is the file's
    handler = Handler(closed, params, None, old.source)
    bp.states[compiled.closed] = dataclasses.replace(state, handlers=(handler,))


def canonical(doc: object) -> bytes:
    """A seed document as stored: canonical JSON, so equal documents are equal bytes."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
