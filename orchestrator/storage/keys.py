"""Every Redis key name. Hash tags keep each job's keys, each queue's keys and each index in
one slot, so that every script touches one slot and runs on Redis Cluster."""

from __future__ import annotations

import re

_NAME = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


def check_name(kind: str, value: str) -> str:
    """Task types, worker ids and prefixes end up inside keys: no braces, no spaces."""
    if not _NAME.fullmatch(value):  # match() lets a trailing newline through
        raise ValueError(
            f"{kind} {value!r} must be 1-128 characters of letters, digits, '_', '.', ':' or '-'"
        )
    return value


class Keys:
    def __init__(self, prefix: str) -> None:
        self.prefix = check_name("key prefix", prefix)
        p = prefix
        self.timers = f"{p}:{{timers}}:due"
        self.task_types = f"{p}:{{meta}}:task_types"
        self.workers = f"{p}:{{w}}:info"
        self.workers_seen = f"{p}:{{w}}:seen"
        self.wake_channel = f"{p}:wake"
        self.ended_channel = f"{p}:ended"

    def job(self, job_id: str) -> str:
        return f"{self.prefix}:{{{job_id}}}:job"

    def ready(self, task_type: str) -> str:
        return f"{self.prefix}:{{q:{task_type}}}:ready"

    def delayed(self, task_type: str) -> str:
        return f"{self.prefix}:{{q:{task_type}}}:delayed"

    def leases(self, task_type: str) -> str:
        return f"{self.prefix}:{{q:{task_type}}}:leases"

    def client_jobs(self, client: str) -> str:
        return f"{self.prefix}:{{c:{client}}}:jobs"

    def worker_cancels(self, worker_id: str) -> str:
        return f"{self.prefix}:{{w}}:cancels:{worker_id}"

    def command_channel(self, worker_id: str) -> str:
        return f"{self.prefix}:cmd:{worker_id}"

    def all_pattern(self) -> str:
        return f"{self.prefix}:*"
