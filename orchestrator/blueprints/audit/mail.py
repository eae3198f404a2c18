"""The e-mail a validated audit sends: who gets it and what it says.

The operator first, then the supervisors, each once (a supervisor who is also the operator
gets one message). The BCC list is not chosen here: it belongs to the sending worker
(``SMTP_BCC``), which reports the one it used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def recipients(record: Mapping[str, Any]) -> list[str]:
    """The operator's address, then each supervisor's, without duplicates."""
    operator = record.get("operator") or {}
    found = [operator.get("email"), *(record.get("supervisors") or [])]
    seen: list[str] = []
    for address in found:
        if isinstance(address, str) and address.strip() and address.strip() not in seen:
            seen.append(address.strip())
    return seen


def subject(kind: str, task_uuid: str) -> str:
    return f"Auditoría de {kind} validada: {task_uuid}"


def body(kind: str, task_uuid: str, notes: str, record: Mapping[str, Any]) -> str:
    score = record.get("score") or {}
    operator = (record.get("operator") or {}).get("name") or "operador"
    lines = [
        f"La auditoría de {kind} {task_uuid} de {operator} fue validada.",
        "",
        f"Observaciones: {notes}",
        "",
        f"Puntaje general: {score.get('overall', 0)}",
    ]
    lines += [f"  {c}: {v}" for c, v in sorted((score.get("categories") or {}).items())]
    if record.get("file_name"):
        lines += ["", f"Archivo: {record['file_name']}"]
    return "\n".join(lines) + "\n"
