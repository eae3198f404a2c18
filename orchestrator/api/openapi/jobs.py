"""OpenAPI: the created range and the id search of ``GET /api/v1/jobs`` (``api/job_list``),
and the download of a job's file through the orchestrator (``api/files``)."""

from __future__ import annotations

from typing import Any

from orchestrator.api.files import DOWNLOAD_VIA
from orchestrator.api.job_list import EPOCH_SECONDS, MAX_ID_SEARCH
from orchestrator.api.openapi.operations import query


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


def download_via() -> dict[str, Any]:
    return query(
        "via",
        {"type": "string", "enum": list(DOWNLOAD_VIA)},
        "`s3` (the default): a redirect to a presigned S3 link. `orchestrator`: the bytes "
        "themselves, streamed from S3 through the orchestrator, for a client that cannot "
        "reach S3 or may talk to one origin only (a browser page such as the console).",
    )


def download_through() -> dict[str, Any]:
    return {
        "description": "With via=orchestrator: the file's bytes, as an attachment to save.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
