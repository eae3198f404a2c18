"""Seed-003 workflow documents for the tests: the seed's own example, and one with a loop."""

from __future__ import annotations

import copy
from typing import Any

IT_SUPPORT: dict[str, Any] = {
    "workflow": {
        "name": "IT Support Request",
        "description": "Standard IT support workflow",
        "category": "Technology",
        "sub_category": "Support",
        "department": "IT",
        "low_sla": "72:00:00",
        "medium_sla": "48:00:00",
        "high_sla": "24:00:00",
        "urgent_sla": "04:00:00",
    },
    "graph": {
        "nodes": [
            {"temp_id": "node_1", "name": "Triage", "role_id": 2, "is_start": True, "weight": 0.3},
            {
                "temp_id": "node_2",
                "name": "Resolution",
                "role_id": 3,
                "is_end": True,
                "weight": 0.7,
            },
        ],
        "edges": [{"from_temp_id": "node_1", "to_temp_id": "node_2", "name": "Assign"}],
    },
}

REVIEWED: dict[str, Any] = {
    "workflow": {
        "name": "Reviewed Incident",
        "low_sla": "96:00:00",
        "medium_sla": "48:00:00",
        "high_sla": "12:00:00",
        "urgent_sla": "00:00:02",
    },
    "graph": {
        "nodes": [
            {
                "temp_id": "t",
                "name": "Triage",
                "role_id": 2,
                "is_start": True,
                "weight": 0.2,
                "escalate_to": 5,
            },
            {"temp_id": "r", "name": "Resolution", "role_id": 3, "weight": 0.4},
            {"temp_id": "v", "name": "Review", "role_id": 4, "weight": 0.2},
            {"temp_id": "c", "name": "Closed", "role_id": 2, "is_end": True, "weight": 0.1},
        ],
        "edges": [
            {"from_temp_id": "t", "to_temp_id": "r", "name": "Assign"},
            {"from_temp_id": "t", "to_temp_id": "c", "name": "Duplicate"},
            {"from_temp_id": "r", "to_temp_id": "v", "name": "Resolved"},
            {"from_temp_id": "v", "to_temp_id": "r", "name": "Reopen"},
            {"from_temp_id": "v", "to_temp_id": "c", "name": "Approve"},
        ],
    },
}


def variant(base: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """A deep copy, optionally renamed (registered workflows need distinct names)."""
    doc = copy.deepcopy(base)
    if name is not None:
        doc["workflow"]["name"] = name
    return doc
