"""storage/keys.py: the hash tags of every key, and a prefix checked as a name."""

from __future__ import annotations

import pytest

from orchestrator.storage.keys import Keys


def test_a_bad_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="key prefix"):
        Keys("my app")


def hash_tag(key: str) -> str:
    return key[key.index("{") + 1 : key.index("}")]


def test_each_queue_keeps_its_keys_in_one_slot() -> None:
    k = Keys("orch")

    tags = {hash_tag(k.ready("echo")), hash_tag(k.delayed("echo")), hash_tag(k.leases("echo"))}

    assert tags == {"q:echo"}
    assert hash_tag(k.job("abc")) == "abc"
    assert hash_tag(k.client_jobs("shop")) == "c:shop"
    assert {hash_tag(k.workers), hash_tag(k.workers_seen), hash_tag(k.worker_cancels("w"))} == {"w"}


def test_every_key_starts_with_the_prefix() -> None:
    k = Keys("orch")

    keys = [k.job("j"), k.ready("t"), k.timers, k.task_types, k.command_channel("w")]

    assert all(key.startswith("orch:") for key in keys)
    assert k.all_pattern() == "orch:*"
