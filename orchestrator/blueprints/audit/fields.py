"""Checking the seed-000 inputs in the blueprint: ``MISSING_FIELDS`` names every missing
field at once, ``VALIDATION_ERROR`` the first field of the wrong type or format.

Form posts (multipart) carry every value as text, so a boolean field also takes the strings
``true``/``false`` (any case) and ``1``/``0``; JSON posts send real booleans.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

AUDIT_ITEM_FIELDS = ("category", "question", "complies", "explanation")


class FieldProblem(Exception):
    """The input is refused; the job fails with ``code`` and ``message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ValidateInput:
    task_uuid: str
    notes: str
    is_call: bool
    attachments: tuple[str, ...]
    audit: tuple[dict[str, Any], ...] | None = None
    """New answers to store (and score) before validating; ``None``: keep the stored ones."""
    actor: str | None = None
    """Who validates (the ``x-username`` header, or the body's ``actor``), when given."""


@dataclass(frozen=True)
class ComputeInput:
    task_uuid: str
    file_name: str
    is_call: bool
    audit: tuple[dict[str, Any], ...]
    actor: str | None = None
    """Who changes the audit (the ``x-username`` header, or the body's ``actor``), when given."""


def _missing(data: Mapping[str, Any], names: tuple[str, ...]) -> None:
    # An empty or blank string is as good as absent: a form sends empty fields as "".
    absent = [
        n
        for n in names
        if data.get(n) is None or (isinstance(data.get(n), str) and not data[n].strip())
    ]
    if absent:
        raise FieldProblem("MISSING_FIELDS", f"missing required fields: {', '.join(absent)}")


def _uuid(value: Any, name: str) -> str:
    try:
        parsed = uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    # uuid.UUID also takes forms without hyphens or with braces; the seed's ids are canonical.
    if parsed is None or str(parsed) != value.strip().lower():
        raise FieldProblem("VALIDATION_ERROR", f"{name} must be a UUID (got {value!r})")
    return str(parsed)


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "false", "0"}:
        return value.strip().lower() in {"true", "1"}
    raise FieldProblem("VALIDATION_ERROR", f"{name} must be a boolean (got {value!r})")


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise FieldProblem("VALIDATION_ERROR", f"{name} must be a string (got {value!r})")
    return value


def _files(value: Any) -> tuple[str, ...]:
    """The names of the file parts the start route stored as job files (``files``)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(v, Mapping) and isinstance(v.get("filename"), str) for v in value
    ):
        raise FieldProblem("VALIDATION_ERROR", "files must be a list of {filename, ...}")
    return tuple(v["filename"] for v in value)


def validate_input(data: Mapping[str, Any]) -> ValidateInput:
    """``POST /validate-audit``: ``task_uuid``, ``notes``, ``isCall``, and optionally a new
    ``audit`` list (as for compute-audit-results). The attachments are the job files listed in
    ``files``, which the start route fills from a form's file parts: every file part is an
    attachment, as the seed says."""
    _missing(data, ("task_uuid", "notes", "isCall"))
    return ValidateInput(
        task_uuid=_uuid(data["task_uuid"], "task_uuid"),
        notes=_text(data["notes"], "notes"),
        is_call=_bool(data["isCall"], "isCall"),
        attachments=tuple(dict.fromkeys(_files(data.get("files")))),
        audit=None if data.get("audit") is None else _audit(data["audit"]),
        actor=_actor(data.get("actor")),
    )


def _audit(audit: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(audit, list) or not audit:
        raise FieldProblem("VALIDATION_ERROR", "audit must be a non-empty list of items")
    return tuple(_audit_item(item, f"audit[{i}]") for i, item in enumerate(audit))


def _audit_item(item: Any, at: str) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise FieldProblem("VALIDATION_ERROR", f"{at} must be an object")
    _missing_in(item, at)
    return {
        "category": _text(item["category"], f"{at}.category").strip(),
        "question": _text(item["question"], f"{at}.question").strip(),
        "complies": _bool(item["complies"], f"{at}.complies"),
        "explanation": _text(item["explanation"], f"{at}.explanation"),
    }


def _missing_in(item: Mapping[str, Any], at: str) -> None:
    # ``explanation`` may be empty (nothing to explain); the others may not.
    absent = [f"{at}.{n}" for n in AUDIT_ITEM_FIELDS if item.get(n) is None]
    absent += [
        f"{at}.{n}"
        for n in ("category", "question")
        if isinstance(item.get(n), str) and not item[n].strip()
    ]
    if absent:
        raise FieldProblem("MISSING_FIELDS", f"missing required fields: {', '.join(absent)}")


def compute_input(data: Mapping[str, Any]) -> ComputeInput:
    """``POST /compute-audit-results``: ``task_uuid``, ``file_name``, ``isCall`` and a
    non-empty ``audit`` list of ``{category, question, complies, explanation}``."""
    _missing(data, ("task_uuid", "file_name", "isCall", "audit"))
    return ComputeInput(
        task_uuid=_uuid(data["task_uuid"], "task_uuid"),
        file_name=_text(data["file_name"], "file_name").strip(),
        is_call=_bool(data["isCall"], "isCall"),
        audit=_audit(data["audit"]),
        actor=_actor(data.get("actor")),
    )


def _actor(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _text(value, "actor").strip()


def kind(is_call: bool) -> str:
    """The seed's ``type``: ``llamada`` (a call) or ``chat``."""
    return "llamada" if is_call else "chat"
