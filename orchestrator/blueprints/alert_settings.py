"""Settings of the alert process (seed 001), read once from the orchestrator's environment.

- ``ALERT_ACK_DEADLINES``: seconds compliance has to acknowledge an alert, by severity, as
  ``critical=900,high=3600``; a severity left out keeps its default (``DEFAULT_DEADLINES_S``).
- ``ALERT_ESCALATION_ROLES``: the roles an unacknowledged alert goes to, one per deadline
  passed, in order (``compliance-lead,compliance-director``).

They are read from the environment, not the config file, because they belong to this one
blueprint, not to the orchestrator; every process serving it must be given the same values,
as it must be given the same code.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from orchestrator.errors import ConfigError

SEVERITIES = ("low", "medium", "high", "critical")
FIRST_ROLE = "compliance"
DEFAULT_DEADLINES_S: dict[str, float] = {
    "low": 24 * 3600.0,
    "medium": 4 * 3600.0,
    "high": 3600.0,
    "critical": 15 * 60.0,
}
DEFAULT_ESCALATION_ROLES = ("compliance-lead", "compliance-director")
DEADLINES_VAR = "ALERT_ACK_DEADLINES"
ROLES_VAR = "ALERT_ESCALATION_ROLES"
_ROLE = re.compile(r"^[A-Za-z0-9_.:@+\-]{1,128}$")  # what a human step's role may be


@dataclass(frozen=True)
class AlertSettings:
    deadlines_s: Mapping[str, float]
    escalation_roles: tuple[str, ...]


def _deadlines(text: str) -> dict[str, float]:
    found = dict(DEFAULT_DEADLINES_S)
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        severity, sep, value = item.partition("=")
        severity = severity.strip()
        if not sep or severity not in SEVERITIES:
            raise ConfigError(
                f"{DEADLINES_VAR}: {item!r} is not <severity>=<seconds> with a severity of "
                + ", ".join(SEVERITIES)
            )
        try:
            seconds = float(value)
        except ValueError:
            raise ConfigError(f"{DEADLINES_VAR}: {value!r} ({severity}) is not a number") from None
        if not seconds > 0:
            raise ConfigError(f"{DEADLINES_VAR}: {severity} must be above zero, not {value!r}")
        found[severity] = seconds
    return found


def _roles(text: str) -> tuple[str, ...]:
    roles = tuple(r.strip() for r in text.split(",") if r.strip())
    bad = [r for r in roles if not _ROLE.match(r)]
    if bad:
        raise ConfigError(
            f"{ROLES_VAR}: not a role name: {', '.join(bad)} "
            "(letters, digits and _ . : @ + -, up to 128)"
        )
    return roles


def from_env(environ: Mapping[str, str]) -> AlertSettings:
    """The settings found in ``environ``; a bad value is a ``ConfigError`` naming the variable."""
    deadlines = _deadlines(environ.get(DEADLINES_VAR, ""))
    roles_text = environ.get(ROLES_VAR)
    roles = DEFAULT_ESCALATION_ROLES if roles_text is None else _roles(roles_text)
    return AlertSettings(deadlines, roles)


SETTINGS = from_env(os.environ)
