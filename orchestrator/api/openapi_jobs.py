"""OpenAPI: the created range and the id search of ``GET /api/v1/jobs`` (``api/job_list``)."""

from __future__ import annotations

from typing import Any

from orchestrator.api.job_list import EPOCH_SECONDS, MAX_ID_SEARCH
from orchestrator.api.openapi_operations import query


def _moment() -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": "string", "format": "date-time"},
            {"type": "string", "pattern": EPOCH_SECONDS},
        ]
    }


def job_search_params() -> tuple[dict[str, Any], ...]:
    return (
        query(
            "created_after",
            _moment(),
            "Only jobs created at or after this time: ISO 8601 with its zone, as the API "
            "writes times (2026-11-30T15:04:05.123Z), or Unix seconds. Millisecond precision.",
        ),
        query(
            "created_before",
            _moment(),
            "Only jobs created before this time (same forms). A range with nothing in it "
            "answers no jobs.",
        ),
        query(
            "id",
            {"type": "string", "maxLength": MAX_ID_SEARCH},
            "Only jobs whose id holds this text, in any case. A whole job id is found at "
            "once; a part is searched for in the index, a bounded stretch per request: "
            "follow next_offset until it is null.",
        ),
    )
