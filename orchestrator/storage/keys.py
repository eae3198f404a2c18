"""Every Redis key name. Hash tags keep each job's keys, each queue's keys and each index in
one slot, so that every script touches one slot and runs on Redis Cluster."""

from __future__ import annotations

from orchestrator.names import check_name


class Keys:
    def __init__(self, prefix: str) -> None:
        self.prefix = check_name("key prefix", prefix)
        p = prefix
        self.timers = f"{p}:{{timers}}:due"
        self.task_types = f"{p}:{{meta}}:task_types"
        self.workers = f"{p}:{{w}}:info"
        self.workers_seen = f"{p}:{{w}}:seen"
        self.workers_draining = f"{p}:{{w}}:draining"
        """Ids of the workers an operator drained (``storage/worker_registry.py``)."""
        self.drain_channel = f"{p}:drain"
        self.workers_channel = f"{p}:workers"
        """Ids of workers whose record changed (``dispatch/profiles.py``)."""
        self.wake_channel = f"{p}:wake"
        self.ended_channel = f"{p}:ended"
        self.changed_channel = f"{p}:changed"
        self.stats_jobs = f"{p}:{{stats}}:jobs"
        """Non-terminal jobs by ``blueprint|status`` (see ``storage/stats.py``)."""
        self.stats_recount_lock = f"{p}:{{stats}}:recount"
        self.webhook_outbox = f"{p}:{{webhooks}}:outbox"
        """Webhook deliveries owed, by due time (see ``webhooks/outbox.py``)."""

    def job(self, job_id: str) -> str:
        return f"{self.prefix}:{{{job_id}}}:job"

    # A queue is a task type, or ``type#requirements`` (``engine/requires.py``): a routed
    # queue's keys share its type's hash tag, so one script reads all of a type's queues.

    def ready(self, queue: str) -> str:
        task_type, _, routed = queue.partition("#")
        return f"{self.prefix}:{{q:{task_type}}}:ready" + (f":{routed}" if routed else "")

    def delayed(self, queue: str) -> str:
        task_type, _, routed = queue.partition("#")
        return f"{self.prefix}:{{q:{task_type}}}:delayed" + (f":{routed}" if routed else "")

    def leases(self, queue: str) -> str:
        """One per task type, whatever the requirements: its size is the type's in-flight
        count, which ``max_in_flight`` caps."""
        return f"{self.prefix}:{{q:{queue.partition('#')[0]}}}:leases"

    def early(self, task_type: str) -> str:
        """Entries of the type put back because their job was not yet written (``defer.lua``),
        by when that first happened."""
        return f"{self.prefix}:{{q:{task_type}}}:early"

    def routes(self, task_type: str) -> str:
        """Set of the requirement sets (encodings) tasks of the type were queued with."""
        return f"{self.prefix}:{{q:{task_type}}}:routes"

    def type_bucket(self, task_type: str) -> str:
        """Token bucket of the type's ``max_per_second``."""
        return f"{self.prefix}:{{q:{task_type}}}:bucket"

    def idempotency(self, client: str, key: str) -> str:
        return f"{self.prefix}:{{c:{client}}}:idem:{key}"

    def client_jobs(self, client: str) -> str:
        return f"{self.prefix}:{{c:{client}}}:jobs"

    def worker_cancels(self, worker_id: str) -> str:
        return f"{self.prefix}:{{w}}:cancels:{worker_id}"

    def command_channel(self, worker_id: str) -> str:
        """Every worker's command channel is in the ``{w}`` slot: on Cluster the bus holds one
        sharded subscription connection, to that slot's primary (``dispatch/bus.py``)."""
        return f"{self.prefix}:{{w}}:cmd:{worker_id}"

    def stats_finished(self, bucket: int) -> str:
        """Jobs finished in the stats bucket starting at epoch second ``bucket``."""
        return f"{self.prefix}:{{stats}}:finished:{bucket}"

    def job_pattern(self) -> str:
        """SCAN pattern for job hashes only: no other key ends in ``}:job`` (names after a
        hash tag are fixed words, and ids inside keys cannot hold braces)."""
        return f"{self.prefix}:{{*}}:job"

    def rate_bucket(self, kind: str, identity: str) -> str:
        """A token bucket; each in a slot of its own (``identity``: a checked client name or
        a normalised IP address, so never a brace)."""
        return f"{self.prefix}:{{rl:{kind}:{identity}}}:bucket"

    def all_pattern(self) -> str:
        return f"{self.prefix}:*"
