"""JSON Schemas of the bodies the handlers answer with, generated from the Structs that type
them (``orchestrator/api/answers/``, and ``worker_sdk.protocol`` for the worker's), as
``schemas.py`` generates the requests' from the Structs that decode them."""

from __future__ import annotations

from orchestrator.api.answers import ANSWERS as ACKNOWLEDGEMENTS
from orchestrator.api.answers.blueprints import BLUEPRINT_ANSWERS
from orchestrator.api.answers.fleet import FLEET_ANSWERS
from orchestrator.api.answers.human import HUMAN_ANSWERS, TICKET_ANSWERS
from orchestrator.api.answers.jobs import JOB_ANSWERS
from orchestrator.api.openapi.schemas import Schema, generated
from worker_sdk.protocol import WORKER_ANSWERS


def _answers() -> dict[str, Schema]:
    answers = generated(
        *ACKNOWLEDGEMENTS,
        *JOB_ANSWERS,
        *FLEET_ANSWERS,
        *BLUEPRINT_ANSWERS,
        *HUMAN_ANSWERS,
        *TICKET_ANSWERS,
        *WORKER_ANSWERS,
    )
    for status in ("JobStatus", "TaskStatus"):  # the engine's enums: their docstrings are its own
        answers[status] = {"type": "string", "enum": answers[status]["enum"]}
    return answers


ANSWERS: dict[str, Schema] = _answers()
