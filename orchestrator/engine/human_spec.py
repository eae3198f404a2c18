"""What a human step declares besides its decisions: who it is for, what the person reads, what
a decision may carry, when it is due and how it escalates. Checked when the handler chooses
the step, so a bad spec fails the job with ``INVALID_ACTION`` naming the problem.

Role and assignee names end up inside Redis keys (the inbox indexes), so they are held to
plain characters: no brace can move a key to another Cluster slot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestrator.engine.model import JSON

_NAME = re.compile(r"^[A-Za-z0-9_.:@+\-]{1,128}$")
MAX_ESCALATIONS = 20
MAX_DUE_S = 10 * 365 * 24 * 3600
_FIELD_KEYS = {"type", "enum", "properties", "required", "items", "for", "description"}


class SpecError(ValueError):
    """A human step declared wrongly; the message names the argument."""


@dataclass(frozen=True)
class Escalation:
    after_s: float
    """Seconds after the step began waiting."""
    to_role: str | None = None
    to_assignee: str | None = None
    notify: JSON | None = None
    """Params of a fire-and-forget ``notify`` task, or None for no notice."""

    def doc(self) -> JSON:
        return {
            "after": self.after_s,
            "to_role": self.to_role,
            "to_assignee": self.to_assignee,
            "notify": self.notify,
        }


@dataclass(frozen=True)
class HumanSpec:
    role: str | None = None
    assignee: str | None = None
    title: str | None = None
    instructions: str | None = None
    fields: dict[str, JSON] = field(default_factory=dict)
    """Field name → schema (the task-result subset) plus ``required`` and ``for``."""
    due_in_s: float | None = None
    escalations: tuple[Escalation, ...] = ()
    summary: JSON | None = None
    """What the inbox shows of the job (the blueprint chooses; default: nothing)."""


def name(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise SpecError(f"{what} must be 1-128 letters, digits or '_ . : @ + -', got {value!r}")
    return value


def _text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise SpecError(f"{what} must be a string")
    return value


def seconds(value: object, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise SpecError(f"{what} must be a number of seconds")
    if not 0 <= value <= MAX_DUE_S:
        raise SpecError(f"{what} must be between 0 and {MAX_DUE_S} seconds")
    return float(value)


def _field(fname: str, spec: object, decisions: Mapping[str, str]) -> JSON:
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, Mapping):
        raise SpecError(f"fields.{fname} must be a schema mapping or a type name")
    unknown = sorted(set(spec) - _FIELD_KEYS)
    if unknown:
        raise SpecError(f"fields.{fname}: unknown key {unknown[0]!r}")
    out = dict(spec)
    if not isinstance(out.get("required", False), bool):
        raise SpecError(f"fields.{fname}.required must be true or false")
    only = out.get("for")
    if only is not None and (not isinstance(only, list) or not all(d in decisions for d in only)):
        raise SpecError(f"fields.{fname}.for must list decisions of this step")
    return out


def _escalation(i: int, item: object) -> Escalation:
    what = f"escalations[{i}]"
    if not isinstance(item, Mapping):
        raise SpecError(f"{what} must be a mapping with 'after'")
    unknown = sorted(set(item) - {"after", "to_role", "to_assignee", "notify"})
    if unknown:
        raise SpecError(f"{what}: unknown key {unknown[0]!r}")
    after = seconds(item.get("after"), f"{what}.after")
    if after is None:
        raise SpecError(f"{what}.after is required (seconds after the step began)")
    notify = item.get("notify")
    if notify is not None and not isinstance(notify, Mapping):
        raise SpecError(f"{what}.notify must be a mapping (the notify task's params)")
    return Escalation(
        after,
        name(item.get("to_role"), f"{what}.to_role"),
        name(item.get("to_assignee"), f"{what}.to_assignee"),
        dict(notify) if notify is not None else None,
    )


def build(
    decisions: Mapping[str, str],
    *,
    role: object = None,
    assignee: object = None,
    title: object = None,
    instructions: object = None,
    fields: Mapping[str, Any] | None = None,
    due_in: object = None,
    escalations: Sequence[Any] | None = None,
    summary: object = None,
) -> HumanSpec:
    if fields is not None and not isinstance(fields, Mapping):
        raise SpecError("fields must map field names to schemas")
    if escalations is not None and (
        isinstance(escalations, str | bytes | Mapping) or not isinstance(escalations, Sequence)
    ):
        raise SpecError("escalations must be a list of {after, to_role, to_assignee, notify}")
    levels = tuple(_escalation(i, e) for i, e in enumerate(escalations or ()))
    if len(levels) > MAX_ESCALATIONS:
        raise SpecError(f"at most {MAX_ESCALATIONS} escalations")
    if summary is not None and not isinstance(summary, Mapping):
        raise SpecError("summary must be a mapping")
    return HumanSpec(
        role=name(role, "role"),
        assignee=name(assignee, "assignee"),
        title=_text(title, "title"),
        instructions=_text(instructions, "instructions"),
        fields={str(k): _field(str(k), v, decisions) for k, v in (fields or {}).items()},
        due_in_s=seconds(due_in, "due_in"),
        escalations=levels,
        summary=dict(summary) if summary is not None else None,
    )


def fields_for(fields: Mapping[str, JSON], decision: str) -> dict[str, JSON]:
    """The fields a decision may carry (those without ``for``, or naming it)."""
    return {
        k: {n: v for n, v in spec.items() if n != "for"}
        for k, spec in fields.items()
        if spec.get("for") is None or decision in spec["for"]
    }
