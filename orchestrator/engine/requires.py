"""Task requirements: which workers may take a task (``dispatch_task(..., requires=...)``).

``{"tags": ["gpu"], "region": "eu"}`` asks for a worker registered with the tag ``gpu`` (all
listed tags present) and the label ``region=eu`` (each other key equal). A requirement set is
kept in one canonical text, its *encoding*, sorted so that equal sets spell the same:
``+gpu,region=eu`` (tags first, each after ``+``, then ``key=value`` pairs). The empty set
encodes as ``""``: a task without requirements.

A task type and an encoding name a *queue*: ``send_email`` alone, or ``render#+gpu,region=eu``.
Each queue is a ready list of its own (``storage/keys.py``), so a claim never scans for a
matching task (``docs/worker-sdk.md``, "Routing").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

_WORD = re.compile(r"^[A-Za-z0-9_.:/\-]{1,64}$")
TAGS = "tags"
"""The one key that lists tags; every other key is a label."""
MAX_ITEMS = 16


class RequiresError(ValueError):
    """``requires`` is not a mapping of tags and labels this module can encode."""


def _word(what: str, value: object) -> str:
    if not isinstance(value, str) or not _WORD.fullmatch(value):
        raise RequiresError(
            f"{what} {value!r} must be 1-64 characters of letters, digits, '_', '.', ':', "
            "'/' or '-'"
        )
    return value


def encode(requires: Mapping[str, object] | None) -> str:
    """The canonical encoding of ``requires``; raises ``RequiresError`` naming what is wrong."""
    if requires is None:
        return ""
    if not isinstance(requires, Mapping):
        raise RequiresError('requires must be a mapping like {"tags": ["gpu"], "region": "eu"}')
    tags: set[str] = set()
    labels: list[str] = []
    for key, value in requires.items():
        if key == TAGS:
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise RequiresError("requires.tags must be a list of tags")
            tags.update(_word("tag", tag) for tag in value)
        else:
            labels.append(f"{_word('label', key)}={_word(f'label {key!r} value', value)}")
    if len(tags) + len(labels) > MAX_ITEMS:
        raise RequiresError(f"requires may hold at most {MAX_ITEMS} tags and labels")
    return ",".join([f"+{tag}" for tag in sorted(tags)] + sorted(labels))


@lru_cache(maxsize=4096)
def decode(encoding: str) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """(tags, labels as pairs) of an encoding made by ``encode``."""
    tags, labels = set(), set()
    for item in encoding.split(",") if encoding else ():
        if item.startswith("+"):
            tags.add(item[1:])
        else:
            key, _, value = item.partition("=")
            labels.add((key, value))
    return frozenset(tags), frozenset(labels)


def as_mapping(encoding: str) -> dict[str, object]:
    """The ``requires`` mapping an encoding stands for (what the API shows)."""
    tags, labels = decode(encoding)
    shown: dict[str, object] = {TAGS: sorted(tags)} if tags else {}
    return {**shown, **dict(sorted(labels))}


def met_by(encoding: str, tags: frozenset[str], labels: frozenset[tuple[str, str]]) -> bool:
    """Whether a worker with ``tags`` and ``labels`` (as pairs) may take such a task."""
    if not encoding:
        return True
    need_tags, need_labels = decode(encoding)
    return need_tags <= tags and need_labels <= labels


def queue(task_type: str, encoding: str) -> str:
    """The queue of a task type and requirement set (the type alone when there is none)."""
    return f"{task_type}#{encoding}" if encoding else task_type


def split(queue_name: str) -> tuple[str, str]:
    """(task type, encoding) of a queue name; ``#`` never occurs in a task type."""
    task_type, _, encoding = queue_name.partition("#")
    return task_type, encoding
