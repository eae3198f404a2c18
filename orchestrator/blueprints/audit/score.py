"""The audit score, recomputed against the current criteria (seed 000).

The formula (also in ``docs/processes.md``): each current criterion has a ``category``, a
``question`` and a ``weight`` (default 1). An audit answers criteria with items
``{category, question, complies, explanation}``, matched on category and question (case and
surrounding blanks ignored). Then

* a category's score is ``100 × Σ weight of its complying criteria / Σ weight of its
  criteria``, rounded to 2 decimals;
* the overall score is the same ratio over every criterion of every category.

A criterion the audit does not answer counts as not complying; an item that matches no
current criterion (a question since removed) counts for nothing. The score is computed
from the criteria of today, so criteria that changed since the audit was made change it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypedDict


class Score(TypedDict):
    overall: float
    categories: dict[str, float]
    unanswered: int
    """Current criteria the audit has no item for (each counts as not complying)."""
    ignored: int
    """Audit items that match no current criterion."""


def _key(category: Any, question: Any) -> tuple[str, str]:
    return (str(category).strip().casefold(), str(question).strip().casefold())


def _percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole > 0 else 0.0


def compute(items: Iterable[Mapping[str, Any]], criteria: Iterable[Mapping[str, Any]]) -> Score:
    """Score ``items`` (the audit) against ``criteria``; see the module's formula."""
    answers = {_key(i.get("category"), i.get("question")): i.get("complies") is True for i in items}
    earned: dict[str, float] = {}
    possible: dict[str, float] = {}
    matched: set[tuple[str, str]] = set()
    unanswered = 0
    for criterion in criteria:
        category = str(criterion["category"]).strip()
        weight = float(criterion.get("weight", 1))
        key = _key(category, criterion["question"])
        possible[category] = possible.get(category, 0.0) + weight
        earned.setdefault(category, 0.0)
        if key in answers:
            matched.add(key)
            earned[category] += weight if answers[key] else 0.0
        else:
            unanswered += 1
    return {
        "overall": _percent(sum(earned.values()), sum(possible.values())),
        "categories": {c: _percent(earned[c], possible[c]) for c in possible},
        "unanswered": unanswered,
        "ignored": len(set(answers) - matched),
    }
