"""What a client asks for when it starts a job: read by the API, turned into a ``Job`` by the
runner. It lives here, below both, so that neither imports the other for it."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.engine.model import JSON


@dataclass(frozen=True)
class NewJob:
    initial_data: JSON
    webhook_url: str | None = None
    dispatch_timeout_s: float | None = None
    result_timeout_s: float | None = None
