"""Checks of a whole ``Settings`` that span several of its fields: S3, rate limits, logs,
webhooks. Each returns the problems found, for ``Settings.check`` to list them all at once.
Also the per-type limits of the config file's ``task_types``.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator.storage.keys import check_name

if TYPE_CHECKING:
    from orchestrator.config import Settings

SIGV4_LONGEST_S = 7 * 24 * 3600


def s3_problems(s: Settings) -> list[str]:
    if not s.s3_bucket:
        return []
    problems = []
    if (s.s3_access_key_id is None) != (s.s3_secret_access_key is None):
        problems.append("s3_access_key_id and s3_secret_access_key must be set together")
    if s.s3_endpoint_url is not None and not s.s3_endpoint_url.startswith(("http://", "https://")):
        problems.append("s3_endpoint_url must be an http(s) URL")
    prefix = s.s3_key_prefix
    if not prefix or prefix.startswith("/") or prefix.endswith("/") or "//" in prefix:
        problems.append("s3_key_prefix must be non-empty, without leading/trailing or double /")
    elif ".." in prefix.split("/"):
        problems.append("s3_key_prefix must not hold '..'")
    if not 1 <= s.s3_max_expires_s <= SIGV4_LONGEST_S:
        problems.append(f"s3_max_expires_s must be between 1 and {SIGV4_LONGEST_S}")
    if not 1 <= s.s3_presign_expires_s <= s.s3_max_expires_s:
        problems.append("s3_presign_expires_s must be between 1 and s3_max_expires_s")
    if s.s3_max_upload_bytes < 1:
        problems.append("s3_max_upload_bytes must be >= 1")
    return problems


LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def ops_problems(s: Settings) -> list[str]:
    problems = []
    limits = [("client", s.client_rate_per_s, s.client_burst)]
    limits.append(("ip", s.ip_rate_per_s, s.ip_burst))
    limits += [
        (f"client {c.name!r}", c.rate_limit.rate_per_s, c.rate_limit.burst)
        for c in s.clients
        if c.rate_limit
    ]
    for who, rate_per_s, burst in limits:
        # NaN and infinity would reach the Lua script as text it cannot read
        if not (math.isfinite(rate_per_s) and rate_per_s > 0 and burst >= 1):
            problems.append(f"rate limit of {who}: rate must be > 0 and burst >= 1")
    for proxy in s.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            problems.append(f"trusted_proxies: {proxy!r} is not an IP address or network")
    if s.log_format not in LOG_FORMATS:
        problems.append(f"log_format must be one of {', '.join(LOG_FORMATS)}")
    if s.log_level not in LOG_LEVELS:
        problems.append(f"log_level must be one of {', '.join(LOG_LEVELS)}")
    return problems + _webhook_problems(s) + _store_problems(s)


def _webhook_problems(s: Settings) -> list[str]:
    problems = []
    if not (0 < s.webhook_timeout_s < math.inf and s.webhook_backoff_s > 0):
        problems.append("webhook_timeout_s and webhook_backoff_s must be finite and > 0")
    if s.webhook_max_attempts < 1:
        problems.append("webhook_max_attempts must be >= 1")
    if not s.webhook_backoff_s <= s.webhook_backoff_max_s < math.inf:
        problems.append("webhook_backoff_max_s must be finite and >= webhook_backoff_s")
    if s.webhook_max_in_flight < 1 or s.webhook_max_per_host < 1:
        problems.append("webhook_max_in_flight and webhook_max_per_host must be >= 1")
    return problems


def _store_problems(s: Settings) -> list[str]:
    problems = []
    if not (0 < s.sweep_interval_s < math.inf and 0 < s.sweep_idle_interval_s < math.inf):
        problems.append("sweep_interval_s and sweep_idle_interval_s must be finite and > 0")
    if s.redis_max_connections < 2:
        problems.append("redis_max_connections must be >= 2 (one is the pub/sub connection)")
    return problems


@dataclass(frozen=True)
class TaskLimit:
    """Limits of one task type across the deployment (``task_types`` in the config file)."""

    max_in_flight: int = 0
    """Deliveries of the type out with workers at once; 0: no limit."""
    max_per_second: float = 0.0
    """Deliveries handed out a second (a token bucket of one second's worth); 0: no limit."""


def task_limits(value: Any, problems: list[str]) -> dict[str, TaskLimit]:
    """``task_types: {send_email: {max_in_flight: 5, max_per_second: 10}}``."""
    if not isinstance(value, dict):
        problems.append("task_types: must map task type to {max_in_flight, max_per_second}")
        return {}
    found = {}
    for task_type, item in value.items():
        where = f"task_types.{task_type}"
        try:
            check_name("task type", str(task_type))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if not isinstance(item, dict) or not item or set(item) - _LIMIT_KEYS:
            problems.append(f"{where}: must be a mapping of max_in_flight and/or max_per_second")
            continue
        in_flight, rate = item.get("max_in_flight", 0), item.get("max_per_second", 0)
        if isinstance(in_flight, bool) or not isinstance(in_flight, int) or in_flight < 0:
            problems.append(f"{where}.max_in_flight: must be a whole number >= 1 (0: no limit)")
            continue
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate < 1e9:
            problems.append(f"{where}.max_per_second: must be a number > 0 (0: no limit)")
            continue
        found[str(task_type)] = TaskLimit(in_flight, float(rate))
    return found


_LIMIT_KEYS = {"max_in_flight", "max_per_second"}
