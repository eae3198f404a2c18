"""The ``notify`` task (seed 000's notifications), shared by the audit, alert and ticket
blueprints and the example notifier worker.

Params: ``text`` (required), ``variant`` (``success``, ``info``, ``warning`` or ``error``;
``info`` when absent) and ``user_id``, or ``is_global: true`` for everyone. Neither
``user_id`` nor ``is_global`` fails the task ``VALIDATION_ERROR``, as the seed's
``POST /notifications`` requires a user unless the notification is global.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TASK_TYPE = "notify"
VARIANTS = ("success", "info", "warning", "error")


class NoticeError(ValueError):
    """A notification that cannot be posted; ``code`` is ``VALIDATION_ERROR``."""

    code = "VALIDATION_ERROR"


@dataclass(frozen=True)
class Notice:
    text: str
    variant: str
    user_id: str | None
    is_global: bool

    def as_params(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "variant": self.variant,
            "user_id": self.user_id,
            "is_global": self.is_global,
        }


def check(data: Mapping[str, Any]) -> Notice:
    """The notification ``data`` describes, or ``NoticeError`` naming the field at fault."""
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise NoticeError("text is required and must be a non-empty string")
    variant = data.get("variant", "info")
    if variant not in VARIANTS:
        raise NoticeError(f"variant must be one of {', '.join(VARIANTS)} (got {variant!r})")
    is_global = data.get("is_global", False)
    if not isinstance(is_global, bool):
        raise NoticeError(f"is_global must be a boolean (got {is_global!r})")
    user_id = data.get("user_id")
    if user_id is not None and (not isinstance(user_id, str) or not user_id.strip()):
        raise NoticeError(f"user_id must be a non-empty string (got {user_id!r})")
    if user_id is None and not is_global:
        raise NoticeError("user_id is required unless is_global is true")
    return Notice(text.strip(), variant, user_id, is_global)


def notify_params(
    text: str, variant: str = "info", *, user_id: str | None = None, is_global: bool = False
) -> dict[str, Any]:
    """Params of a ``notify`` task, for ``dispatch_task(TASK_TYPE, notify_params(...))``."""
    return {"text": text, "variant": variant, "user_id": user_id, "is_global": is_global}
