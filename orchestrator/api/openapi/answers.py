"""JSON Schemas of the bodies the handlers answer with, generated from the Structs that type
them (``api/answers.py``, ``api/human_answers.py``, and ``worker_sdk.protocol`` for the
worker's), as ``schemas.py`` generates the requests' from the Structs that decode them."""

from __future__ import annotations

from orchestrator.api.answers import ANSWERS as CLIENT_ANSWERS
from orchestrator.api.human_answers import HUMAN_ANSWERS, TICKET_ANSWERS
from orchestrator.api.openapi.schemas import Schema, generated
from worker_sdk.protocol import WORKER_ANSWERS


def _answers() -> dict[str, Schema]:
    answers = generated(*CLIENT_ANSWERS, *HUMAN_ANSWERS, *TICKET_ANSWERS, *WORKER_ANSWERS)
    for status in ("JobStatus", "TaskStatus"):  # the engine's enums: their docstrings are its own
        answers[status] = {"type": "string", "enum": answers[status]["enum"]}
    return answers


ANSWERS: dict[str, Schema] = _answers()
