"""A seed-003 workflow compiled into a YAML blueprint document (the YAML loader's format).

The rules (``docs/workflows.md`` explains them for people):

- The blueprint is named after the workflow (``slug``: ``IT Support Request`` →
  ``it-support-request``), and tickets start at ``POST /api/v1/<that name>``.
- A generated start state, ``received``, checks the ticket (``subject`` and a ``priority`` of
  Low, Medium, High or Urgent) and goes to the seed's start node; a bad ticket fails the job
  with ``INVALID_TICKET``. A generated end state, ``closed``, finishes the job with the report
  of the path taken (``report.py``). Either is renamed with a trailing ``_`` if a node already
  has its name.
- Each node is a human step (a state named after the node) for its ``role_id``, titled with
  its ``name``, whose decisions are the names of its outgoing edges, each moving the ticket
  along that edge. An ``is_end`` node's one decision is ``complete``, which closes the ticket.
- The ticket's ``priority`` picks the workflow SLA (``low_sla`` ... ``urgent_sla``). A step is
  due ``SLA × weight / (sum of every node's weight)`` seconds after the ticket enters it, so
  weights that do not sum to 1 are scaled; a step entered again (a loop) is due again from
  its new entry. A priority without an SLA gives its steps no due time.
- A step past its due time escalates: to the node's ``escalate_to`` role when it has one, with
  a ``notify`` task, and the ticket keeps waiting in the step.

The human-step options this emits (``role``, ``title``, ``due_in``, ``escalations`` ...) are
those of the YAML ``await_human`` action; an option the loader does not know yet is left out
(``supported``), so a document always loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.blueprint.yaml_actions import SHAPES
from orchestrator.workflows.seed import PRIORITIES, Node, Workflow, slug

INTAKE = "received"
CLOSED = "closed"
COMPLETE = "complete"
"""The one decision of an end node."""

HUMAN_OPTIONS = ("role", "title", "instructions", "due_in", "escalations", "fields", "summary")
"""What a compiled step sets, when the YAML ``await_human`` action takes it."""


SUMMARY = {
    key: f"{{{{ initial_data.{key} }}}}"
    for key in (
        "subject",
        "description",
        "priority",
        "category",
        "subcategory",
        "department",
        "employee",
    )
}
"""What a step's inbox entry shows of its ticket (the inbox's ``search`` reads the subject and
the description)."""


def supported() -> frozenset[str]:
    """The human-step options the YAML loader takes today."""
    required, optional = SHAPES["await_human"]
    return frozenset(required) | frozenset(optional)


@dataclass(frozen=True)
class Transition:
    """A decision of a step, with the number seed 003's ``transition_id`` names it by."""

    id: int
    name: str
    to: str
    """The state it moves the ticket to (the closing state for ``complete``)."""


@dataclass(frozen=True)
class Compiled:
    name: str
    document: dict[str, Any]
    """The YAML blueprint document (load it with ``yaml_loader.load_yaml``)."""
    steps: dict[str, str]
    """temp_id → the step (state) it became: the seed's ``temp_id_mapping``."""
    due: dict[str, dict[str, float | None]]
    """Priority → step → seconds the step may take (None: no SLA for that priority)."""
    intake: str
    closed: str
    transitions: dict[str, tuple[Transition, ...]]
    """Step → its decisions, numbered (``transitions``)."""


def state_names(workflow: Workflow) -> tuple[str, str]:
    """The generated start and end states, renamed away from the nodes' names."""
    taken = {n.name for n in workflow.nodes}
    intake, closed = INTAKE, CLOSED
    while intake in taken:
        intake += "_"
    while closed in taken:
        closed += "_"
    return intake, closed


def due_seconds(workflow: Workflow) -> dict[str, dict[str, float | None]]:
    """Priority → step → its share of that priority's SLA (weights scaled to sum to 1)."""
    total = sum(n.weight for n in workflow.nodes)
    out: dict[str, dict[str, float | None]] = {}
    for priority in PRIORITIES:
        sla = workflow.slas.get(priority)
        out[priority] = {
            n.name: (round(sla * n.weight / total, 3) if sla else None) for n in workflow.nodes
        }
    return out


def compile_workflow(workflow: Workflow, *, options: frozenset[str] | None = None) -> Compiled:
    """The YAML document of ``workflow``; ``options``: the human-step options to emit
    (default: those the loader supports)."""
    usable = supported() if options is None else options
    intake, closed = state_names(workflow)
    due = due_seconds(workflow)
    states: dict[str, Any] = {intake: _intake(workflow, intake)}
    for node in workflow.nodes:
        states[node.name] = _step(workflow, node, due, closed, usable)
    states[closed] = _closed(workflow)
    document = {
        "blueprint": slug(workflow.name),
        "api_version": "v1",
        "description": f"Ticket workflow {workflow.name!r}, compiled from its seed-003 graph",
        "states": states,
    }
    steps = {n.temp_id: n.name for n in workflow.nodes}
    moves = transitions(workflow, closed)
    return Compiled(slug(workflow.name), document, steps, due, intake, closed, moves)


def transitions(workflow: Workflow, closed: str) -> dict[str, tuple[Transition, ...]]:
    """Step → its decisions, numbered as seed 003's ``transition_id``: the edges from 1 in
    the order the graph lists them, then each end node's ``complete`` in the order of the
    nodes. The numbers depend on the graph only, so a workflow's version keeps them; each
    names one step's one decision (a step's edges differ in name)."""
    out: dict[str, list[Transition]] = {n.name: [] for n in workflow.nodes}
    for number, edge in enumerate(workflow.edges, start=1):
        source, target = workflow.node(edge.source).name, workflow.node(edge.target).name
        out[source].append(Transition(number, edge.name, target))
    ends = [n for n in workflow.nodes if n.is_end]
    for number, node in enumerate(ends, start=len(workflow.edges) + 1):
        out[node.name].append(Transition(number, COMPLETE, closed))
    return {step: tuple(moves) for step, moves in out.items()}


def _intake(workflow: Workflow, name: str) -> dict[str, Any]:
    valid = {
        "all": [
            {"path": "initial_data.subject", "op": "matches", "value": r"\S"},
            {"path": "initial_data.priority", "op": "in", "value": list(PRIORITIES)},
        ]
    }
    return {
        "start": True,
        "description": "checks the ticket, then hands it to the start node",
        "handlers": [
            {"when": valid, "action": {"go_to": workflow.start.name}},
            {
                "action": {
                    "fail": {
                        "code": "INVALID_TICKET",
                        "message": "a ticket needs a subject and a priority (one of "
                        + ", ".join(PRIORITIES)
                        + ")",
                    }
                }
            },
        ],
    }


def _step(
    workflow: Workflow,
    node: Node,
    due: dict[str, dict[str, float | None]],
    closed: str,
    usable: frozenset[str],
) -> dict[str, Any]:
    if node.is_end:
        decisions = {COMPLETE: closed}
    else:
        decisions = {e.name: workflow.node(e.target).name for e in workflow.out(node.temp_id)}
    base: dict[str, Any] = {"decisions": decisions}
    extra: dict[str, Any] = {
        "role": node.role,
        "title": node.name,
        "instructions": node.instruction or f"{workflow.name}: {node.name}",
        "fields": {"notes": {"type": "string"}},  # the seed's transition notes
        "summary": SUMMARY,
    }
    base.update({k: v for k, v in extra.items() if k in usable})
    # The description carries what the graph does not show, so it counts in the version.
    description = f"node {node.temp_id}: role {node.role}, weight {node.weight:g}"
    if node.escalate_to is not None:
        description += f", escalates to role {node.escalate_to}"
    state: dict[str, Any] = {"description": description}
    timed = "due_in" in usable and any(due[p][node.name] for p in PRIORITIES)
    if not timed:
        state["action"] = {"await_human": base}
        return state
    handlers = []
    for i, priority in enumerate(PRIORITIES):
        args = dict(base)
        seconds = due[priority][node.name]
        if seconds:
            args["due_in"] = seconds
            if "escalations" in usable:
                args["escalations"] = [_escalation(workflow, node, seconds, priority)]
        handler: dict[str, Any] = {"action": {"await_human": args}}
        if i < len(PRIORITIES) - 1:  # the last is the default: received let only these in
            handler = {
                "when": {"path": "initial_data.priority", "op": "eq", "value": priority},
                **handler,
            }
        handlers.append(handler)
    state["handlers"] = handlers
    return state


def _escalation(workflow: Workflow, node: Node, seconds: float, priority: str) -> dict[str, Any]:
    text = f"{workflow.name}: step {node.name!r} is past its {priority} SLA"
    if node.escalate_to is not None:
        text += f": escalated to role {node.escalate_to}"
    # Global: a notice goes to a user or to everyone (seed 000), and a role is neither; a
    # notice with neither would fail VALIDATION_ERROR in the notifier.
    escalation: dict[str, Any] = {
        "after": seconds,
        "notify": {"text": text, "variant": "warning", "is_global": True},
    }
    if node.escalate_to is not None:
        escalation["to_role"] = node.escalate_to
    return escalation


def _closed(workflow: Workflow) -> dict[str, Any]:
    about = {"name": workflow.name, **workflow.text}
    slas = {p: workflow.slas.get(p) for p in PRIORITIES}
    return {
        "end": True,
        "description": "the ticket is closed; its result is the report of the path taken",
        "result": {"workflow": about, "slas_s": slas, "ticket": "{{ initial_data }}"},
    }
