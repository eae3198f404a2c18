"""The rule for names that end up inside Redis keys (task types, worker ids, the key prefix).

It sits in the core layer, below both the settings (``config.py``, which checks the names it is
given) and the storage (``storage/keys.py``, which builds keys from them), so that neither has
to import the other for it.
"""

from __future__ import annotations

import re

NAME = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
"""No braces (they would make a hash tag), no spaces, no ``|`` (it separates queue fields)."""


def check_name(kind: str, value: str) -> str:
    """``value`` when it is a name keys can hold, else a ``ValueError`` naming ``kind``."""
    if not NAME.fullmatch(value):  # match() lets a trailing newline through
        raise ValueError(
            f"{kind} {value!r} must be 1-128 characters of letters, digits, '_', '.', ':' or '-'"
        )
    return value
