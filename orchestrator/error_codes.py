"""Every ``error.code`` the HTTP API answers with: its status and what it means.

The one list of them: ``tests/unit/test_error_codes.py`` checks that each code raised in
``orchestrator/`` is here with the status it is raised with, that each code here is raised
somewhere, and that the table in ``docs/api.md`` is ``markdown_table()``. A status aiohttp
refuses with before any route runs, and that is not listed here, answers ``HTTP_<status>``.
"""

from __future__ import annotations

from typing import NamedTuple


class ErrorCode(NamedTuple):
    status: int
    meaning: str


CODES: dict[str, ErrorCode] = {
    "BAD_REQUEST": ErrorCode(
        400, "not a request HTTP can read: a bad request line or method, a header over 8 KB"
    ),
    "INVALID_JSON": ErrorCode(400, "the body is not JSON (a body of only whitespace included)"),
    "VALIDATION_ERROR": ErrorCode(400, "a field is missing or wrong; `details.field` names it"),
    "INVALID_DECISION": ErrorCode(400, "the human step offers no such decision"),
    "INVALID_TRANSITION": ErrorCode(400, "a ticket's step offers no such transition"),
    "INVALID_FILENAME": ErrorCode(400, "a file name that cannot be stored"),
    "UPLOAD_INCOMPLETE": ErrorCode(400, "the upload ended before its whole body arrived"),
    "BLUEPRINT_INVALID": ErrorCode(400, "a blueprint sent for registration does not load"),
    "WEBSOCKET_HANDSHAKE_REQUIRED": ErrorCode(400, "the WebSocket route without the upgrade"),
    "MISSING_AUTH_HEADER": ErrorCode(
        401, "`/api`: neither `X-Client-Token` nor `Authorization` was sent"
    ),
    "UNAUTHORIZED": ErrorCode(401, "no token, or one the orchestrator does not know"),
    "WORKER_TOKEN_MISMATCH": ErrorCode(403, "the worker token does not belong to this worker"),
    "INVALID_APPROVAL_TOKEN": ErrorCode(403, "a missing or wrong approval token for the step"),
    "ROLE_MISMATCH": ErrorCode(403, "the human step is for a role the actor does not have"),
    "BLUEPRINT_MANAGEMENT_FORBIDDEN": ErrorCode(403, "the client may not register blueprints"),
    "WORKER_MANAGEMENT_FORBIDDEN": ErrorCode(403, "the client may not drain workers"),
    "NOT_FOUND": ErrorCode(404, "no such route, or no such resource"),
    "JOB_NOT_FOUND": ErrorCode(404, "no such job (another client's job is not found either)"),
    "BLUEPRINT_NOT_FOUND": ErrorCode(404, "no blueprint by that name or route"),
    "VERSION_NOT_FOUND": ErrorCode(404, "the registered blueprint has no such version"),
    "WORKER_NOT_REGISTERED": ErrorCode(404, "the worker must register (again) first"),
    "WORKER_NOT_FOUND": ErrorCode(404, "no such worker"),
    "FILE_NOT_FOUND": ErrorCode(404, "the job has no such file"),
    "TICKET_NOT_FOUND": ErrorCode(404, "no such ticket"),
    "METHOD_NOT_ALLOWED": ErrorCode(
        405, "the path exists, not with this method: `Allow` and `details.allowed` list them"
    ),
    "JOB_ALREADY_TERMINAL": ErrorCode(409, "the job has ended"),
    "JOB_NOT_RETRYABLE": ErrorCode(409, "only a failed or quarantined job can be retried"),
    "JOB_ID_TAKEN": ErrorCode(409, "the job id a client chose names another job"),
    "NOT_WAITING_FOR_HUMAN": ErrorCode(409, "the job waits for no decision"),
    "STEP_CHANGED": ErrorCode(409, "the job now waits in another step than the one decided"),
    "NO_ESCALATION_LEFT": ErrorCode(409, "the human step has no further escalation level"),
    "BLUEPRINT_CHANGED": ErrorCode(409, "the job's blueprint version is no longer served here"),
    "TASK_NOT_HELD": ErrorCode(409, "the worker does not hold this attempt of the task"),
    "IDEMPOTENCY_KEY_REUSED": ErrorCode(409, "the idempotency key came with another body"),
    "BLUEPRINT_EXISTS": ErrorCode(
        409, "the blueprint is registered already: PUT registers a new version"
    ),
    "BLUEPRINT_ROUTE_TAKEN": ErrorCode(409, "another blueprint answers that route"),
    "BLUEPRINT_NOT_REGISTERED": ErrorCode(409, "a blueprint defined in code cannot be retired"),
    "WORKER_DRAINING": ErrorCode(409, "the worker is draining: it gets no new tasks"),
    "BLUEPRINT_RETIRED": ErrorCode(410, "the blueprint was retired: it starts no new jobs"),
    "PAYLOAD_TOO_LARGE": ErrorCode(
        413,
        "the body is over `details.max_bytes`: `max_body_bytes` (uploads: `s3_max_upload_bytes`)",
    ),
    "UNSUPPORTED_MEDIA_TYPE": ErrorCode(
        415, "a declared route got a body of a media type it does not read"
    ),
    "RATE_LIMITED": ErrorCode(
        429,
        "too many requests: `Retry-After` says when to try again "
        "([rate limits](operations.md#rate-limits))",
    ),
    "INTERNAL_ERROR": ErrorCode(500, "a bug: the log has the details under the request id"),
    "S3_NOT_CONFIGURED": ErrorCode(
        501, "a file route, and no S3 bucket is configured ([files](files.md))"
    ),
    "STORAGE_UNAVAILABLE": ErrorCode(503, "Redis does not answer: retry"),
    "CONTENTION": ErrorCode(503, "the job changed too fast to apply the request: retry"),
    "STORAGE_CONFLICT": ErrorCode(503, "a new job could not be stored: retry"),
    "S3_ERROR": ErrorCode(503, "S3 refused the request; `details.s3_code` says why"),
    "S3_UNAVAILABLE": ErrorCode(503, "S3 does not answer: retry"),
}


def markdown_table() -> str:
    """The table ``docs/api.md`` shows, by status, then code."""
    rows = sorted(CODES.items(), key=lambda item: (item[1].status, item[0]))
    lines = ["| status | code | meaning |", "|---|---|---|"]
    lines += [f"| {c.status} | `{code}` | {c.meaning} |" for code, c in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
