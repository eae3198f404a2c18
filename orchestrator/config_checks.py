"""Checks of a whole ``Settings`` that span several of its fields: S3, rate limits, logs,
webhooks. Each returns the problems found, for ``Settings.check`` to list them all at once.
"""

from __future__ import annotations

import ipaddress
import math
from typing import TYPE_CHECKING

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
    if not (0 < s.webhook_timeout_s < math.inf and s.webhook_backoff_s > 0):
        problems.append("webhook_timeout_s and webhook_backoff_s must be finite and > 0")
    if s.webhook_max_attempts < 1:
        problems.append("webhook_max_attempts must be >= 1")
    if not s.webhook_backoff_s <= s.webhook_backoff_max_s < math.inf:
        problems.append("webhook_backoff_max_s must be finite and >= webhook_backoff_s")
    if s.webhook_max_in_flight < 1 or s.webhook_max_per_host < 1:
        problems.append("webhook_max_in_flight and webhook_max_per_host must be >= 1")
    return problems
