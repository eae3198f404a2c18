"""Random (version 4) UUIDs as strings, without a system call each.

``uuid.uuid4()`` asks the kernel for 16 random bytes every time (``getrandom``; on a virtual
machine, a fiftieth of the orchestrator's CPU per job) and builds a ``UUID`` object to format.
Here the bytes come from the same source in batches, and a process that forks starts its
own batch, so parent and child never hand out the same id.
"""

from __future__ import annotations

import os

_BATCH = 16 * 256
_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}

_random = b""
_at = 0


def _forget() -> None:
    global _random, _at
    _random, _at = b"", 0


os.register_at_fork(after_in_child=_forget)


def new_uuid() -> str:
    """A random UUID, as ``str(uuid.uuid4())`` gives it: version 4, RFC 4122 variant."""
    global _random, _at
    if _at >= len(_random):
        _random, _at = os.urandom(_BATCH), 0
    h = _random[_at : _at + 16].hex()
    _at += 16
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
