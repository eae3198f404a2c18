"""``new_uuid``: what ``str(uuid.uuid4())`` gives, from batched random bytes, and a forked
child does not repeat its parent's ids."""

from __future__ import annotations

import os
import uuid

from orchestrator.ids import new_uuid


def test_ids_are_random_version_4_uuids() -> None:
    ids = [new_uuid() for _ in range(5000)]  # past several batches
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    # every variant digit turns up: the two random bits under it are kept
    assert {text[19] for text in ids} == set("89ab")


def test_a_forked_child_draws_its_own() -> None:
    new_uuid()  # a batch drawn, most of it left
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(writing, new_uuid().encode())
        os._exit(0)
    os.close(writing)
    os.waitpid(pid, 0)
    child = os.read(reading, 64).decode()
    os.close(reading)
    assert child != new_uuid()
