"""Request bodies and query strings of the human-step routes; a 400 always names the field."""

from __future__ import annotations

from typing import Any

from orchestrator.engine.human_spec import SpecError, name
from orchestrator.errors import BadRequest
from orchestrator.human.inbox import Filters, decode_cursor
from orchestrator.shell.human_steps import Decision

MAX_TEXT = 10_000
MAX_ACTOR = 256


def _invalid(field: str, problem: str) -> BadRequest:
    return BadRequest(f"{field}: {problem}", code="VALIDATION_ERROR", details={"field": field})


def _object(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="VALIDATION_ERROR")
    return body


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _invalid(unknown[0], f"unknown field (allowed: {', '.join(sorted(allowed))})")


def text(body: dict[str, Any], field: str, longest: int = MAX_TEXT) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > longest:
        raise _invalid(field, f"must be a string of at most {longest} characters")
    return value


def _name(body: dict[str, Any], field: str) -> str | None:
    try:
        return name(body.get(field), field)
    except SpecError as exc:
        raise _invalid(field, str(exc).removeprefix(f"{field} ")) from None


def decision(body: object, *, webhook: bool = False) -> Decision:
    data = _object(body)
    if not webhook:  # the webhook always took extra keys (``token``); it still does
        _only(data, {"decision", "actor", "actor_roles", "notes", "data", "state"})
    roles = data.get("actor_roles")
    if roles is not None and (
        not isinstance(roles, list) or not all(isinstance(r, str) for r in roles)
    ):
        raise _invalid("actor_roles", "must be a list of role names")
    extra = data.get("data")
    if extra is not None and not isinstance(extra, dict):
        raise _invalid("data", "must be an object")
    return Decision(
        decision=data.get("decision"),
        actor=text(data, "actor", MAX_ACTOR),
        actor_roles=roles,
        notes=text(data, "notes"),
        data=extra or {},
        state=text(data, "state", MAX_ACTOR),
    )


def assignment(body: object) -> tuple[str | None, str | None, str | None, str | None]:
    """(role, assignee, actor, notes)."""
    data = _object(body)
    _only(data, {"role", "assignee", "actor", "notes"})
    role, assignee = _name(data, "role"), _name(data, "assignee")
    if role is None and assignee is None:
        raise _invalid("assignee", "give an assignee, a role, or both")
    return role, assignee, text(data, "actor", MAX_ACTOR), text(data, "notes")


def escalation(body: object) -> tuple[str | None, str | None]:
    """(actor, reason)."""
    data = _object(body if body is not None else {})
    _only(data, {"actor", "reason"})
    return text(data, "actor", MAX_ACTOR), text(data, "reason")


def filters(query: Any) -> tuple[Filters, str | None]:
    overdue = query.get("overdue", "false")
    if overdue not in ("true", "false", "1", "0", ""):
        raise _invalid("overdue", "must be true or false")
    found = Filters(
        role=_name(query, "role") if query.get("role") else None,
        assignee=_name(query, "assignee") if query.get("assignee") else None,
        blueprint=query.get("blueprint") or None,
        overdue=overdue in ("true", "1"),
    )
    cursor = query.get("cursor") or None
    if cursor is not None:
        try:
            decode_cursor(cursor)
        except ValueError as exc:
            raise _invalid("cursor", str(exc)) from None
    return found, cursor
