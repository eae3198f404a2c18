"""The message that tells every process a job has ended, carrying the job as stored.

A process waiting on a job that another process ended answers from the message, with no read
of the job: ``apply.lua`` publishes, only when the write won, the job's id then every field
name and value of the write, all joined by NUL (``table.concat``: the fields go to Redis
once). The terminal write stores every field ``codec.decode`` reads, so the fields decode to
the job as stored. JSON text escapes NUL, and the plain fields never hold one; a write with a
NUL in some value all the same (``packable``) publishes the bare id, which tells the waiters
to read the job, as the bare ids of the change channel do.
"""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.engine.model import Job
from orchestrator.storage import codec

SEP = b"\x00"


def packable(fields: Sequence[str | bytes]) -> bool:
    """Whether the write's names and values can be joined by NUL and split back."""
    return not any("\x00" in value if isinstance(value, str) else SEP in value for value in fields)


def split(message: bytes) -> tuple[str, bytes]:
    """The job id and the packed fields (empty: a bare id, read the job)."""
    job_id, _, packed = message.partition(SEP)
    return job_id.decode(), packed


def unpack(packed: bytes) -> Job | None:
    parts = packed.split(SEP)
    return codec.decode(dict(zip(parts[0::2], parts[1::2], strict=False)))
