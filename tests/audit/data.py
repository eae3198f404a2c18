"""The audit store file the tests start with: criteria, two calls and a chat."""

from __future__ import annotations

from typing import Any

CALL = "25a95214-6788-4798-83e2-bbe37bdb66dd"
CALL_TO_RESCORE = "3f1c2b9a-0d4e-4f6a-9b1c-7e8d9f0a1b2c"
CHAT = "9b2e4c1d-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
LONELY = "0c0c0c0c-1111-4222-8333-444455556666"
"""A call whose record names nobody to write to."""
ABSENT = "11111111-2222-4333-8444-555555555555"

OPERATOR = "operador@ejemplo.com"
SUPERVISORS = ["sup1@empresa.com", "sup2@empresa.com"]
BCC = ["Desarrollo_LS@linksolution.com.ar"]
OPERATOR_USER = "user123"

CRITERIA = [
    {"category": "SKILLS", "question": "Greets the customer", "weight": 1},
    {"category": "SKILLS", "question": "Confirms identity", "weight": 3},
    {"category": "PROCESS", "question": "Logs the ticket", "weight": 2},
]


def item(category: str, question: str, complies: bool) -> dict[str, Any]:
    return {"category": category, "question": question, "complies": complies, "explanation": ""}


def record(**extra: Any) -> dict[str, Any]:
    return {
        "operator": {"name": "Ana", "email": OPERATOR, "user_id": OPERATOR_USER},
        "supervisors": SUPERVISORS,
        "file_name": "call-0001.wav",
        "audit": [
            item("SKILLS", "Greets the customer", True),
            item("SKILLS", "Confirms identity", False),
            item("PROCESS", "Logs the ticket", True),
        ],
        **extra,
    }


def store() -> dict[str, Any]:
    return {
        "criteria": CRITERIA,
        "calls": {
            CALL: record(),
            CALL_TO_RESCORE: record(),
            LONELY: record(operator={"name": "Nadie"}, supervisors=[]),
        },
        "chats": {CHAT: record(file_name="chat-0001.json")},
    }
