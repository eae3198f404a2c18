"""The bodies the API answers with, typed once: the OpenAPI document's answer components are
generated from these Structs (``openapi/answers.py``), and the handlers answer with them or
with dicts of the same fields. Here the error envelope and the short acknowledgements; the
answers of each part of the API in a module of its own (``jobs``, ``fleet``, ``blueprints``,
``human``). The worker's answers are in ``worker_sdk.protocol``, where the SDK reads them.

Answers list the fields a client can rely on and allow more (no ``forbid_unknown_fields``),
so that a new field is not a breaking change. A field that is sometimes left out is
``UNSET`` by default; every other one is always there (``null`` where its type says so).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from orchestrator.error_codes import CODES

Time = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]


class Answer(Struct):
    """The body of an answer: required fields first, then those that may be left out."""


# -- errors -------------------------------------------------------------------------------------


class ErrorDetail(Answer, forbid_unknown_fields=True):
    code: Annotated[
        str,
        Meta(
            pattern="^[A-Z0-9_]+$",
            description=f"One of {', '.join(sorted(CODES))} (docs/api.md has each one's status "
            "and meaning), or `HTTP_<status>` for a refusal of aiohttp's.",
            examples=["JOB_NOT_FOUND"],
        ),
    ]
    message: str
    details: Annotated[
        dict[str, Any],
        Meta(
            description="What the code needs, e.g. `field` for a 400, `allowed` for a refused "
            "decision, `status` for a 409, `retry_after_s` for a 429. `NOT_WAITING_FOR_HUMAN` "
            "has the decision taken, when one was: `decision` {`decision`, `actor`, `at` (ISO "
            "8601, as every time the API writes), `state`}."
        ),
    ]


class Error(Answer):
    """Every error answer. `code` is stable; `message` is for people."""

    error: ErrorDetail


# -- status and small acknowledgements ----------------------------------------------------------


class StatusOk(Answer):
    status: Literal["ok"]
    parked_polls: (
        Annotated[int, Meta(description="Worker long-polls waiting here.")] | UnsetType
    ) = UNSET


class StatusDown(Answer):
    status: Literal["unavailable"]
    error: ErrorDetail


class ApprovalReceived(Answer):
    status: Literal["approval_received"]
    job_id: str


class Flushed(Answer):
    status: Literal["db_flushed"]
    deleted: int | UnsetType = UNSET


class Accepted(Answer):
    status: Literal["accepted"]
    job_id: str


class Cancelled(Answer):
    status: Literal["cancellation_request_sent", "cancellation_request_accepted"]
    job_id: str


class Draining(Answer):
    """The answer to a drain, the operator's or the worker's own."""

    worker_id: str
    status: Literal["draining"]


ANSWERS: tuple[type[Answer], ...] = (
    Error,
    StatusOk,
    StatusDown,
    ApprovalReceived,
    Flushed,
    Accepted,
    Cancelled,
    Draining,
)
