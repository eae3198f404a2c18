"""Jobs as this process's claims left them, so that the result of the task it leased needs
no read of the job (``shell/results.py``).

On one Redis (and embedded) the claim script returns the job's whole hash as its lease wrote
it (``claim_lease.lua``), one-task jobs only: a parallel job's hash grows with its branches,
and a branch's result is recorded by ``branch_result.lua`` anyway. An entry is the stored
job at the rev the lease gave it, and every write of a job bumps its rev (``apply.lua``,
``lease_task.lua``, ``branch_result.lua``; ``watch.lua`` writes only ``watched``, which the
``Job`` does not hold). So an entry is never wrong, only possibly old: a step decided on it
commits against that rev and, if anything wrote the job since, loses its compare-and-set and
starts over from a fresh read. Entries are taken once (a repeated result reads the job), and
dropped when this process commits the job; the rest (a result that went to another process,
a worker that never answered) leave by age once the cache is full.
"""

from __future__ import annotations

from collections import OrderedDict

from orchestrator.engine.model import Job
from orchestrator.storage import codec

MAX_JOBS = 4096
MAX_BYTES = 32 * 1024 * 1024
"""Bounds of the cache: a miss costs one read of the job, so memory wins over hits."""


class LeasedJobs:
    def __init__(self, max_jobs: int = MAX_JOBS, max_bytes: int = MAX_BYTES) -> None:
        self.max_jobs = max_jobs
        self.max_bytes = max_bytes
        self._jobs: OrderedDict[str, tuple[dict[bytes, bytes], int]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._jobs)

    def put(self, flat: list[bytes]) -> None:
        """Keep the job whose hash is ``flat`` (field, value, field, value ...). Decoded
        only when taken: most claims' results are one read away at most anyway."""
        fields = dict(zip(flat[::2], flat[1::2], strict=True))
        job_id = fields.get(b"id")
        if job_id is None:
            return
        size = sum(len(name) + len(value) for name, value in fields.items())
        self.drop(job_id.decode())
        if size > self.max_bytes:
            return
        self._jobs[job_id.decode()] = (fields, size)
        self._bytes += size
        while len(self._jobs) > self.max_jobs or self._bytes > self.max_bytes:
            _, (_, old) = self._jobs.popitem(last=False)
            self._bytes -= old

    def take(self, job_id: str) -> Job | None:
        """The job as its lease left it, if kept; it is kept no longer."""
        entry = self._jobs.pop(job_id, None)
        if entry is None:
            return None
        self._bytes -= entry[1]
        return codec.decode(entry[0])

    def drop(self, job_id: str) -> None:
        entry = self._jobs.pop(job_id, None)
        if entry is not None:
            self._bytes -= entry[1]

    def clear(self) -> None:
        self._jobs.clear()
        self._bytes = 0
