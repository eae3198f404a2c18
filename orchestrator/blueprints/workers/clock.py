"""Timestamps in the seed's format: ISO-8601 UTC with milliseconds and ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """``2026-01-05T12:34:56.000Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
