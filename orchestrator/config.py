"""``Settings``: one frozen object in groups (``settings.workers.lease_s``), built at the edge
(the CLI) and passed down, and the checks that its values hold together.

Each field names its flat name: its key in the YAML file and, in capitals after ``ORCH_``, its
environment variable (``lease_s``: ``ORCH_LEASE_S``), and how text becomes its value. ``FLAT``
gathers them; ``config_sources.py`` reads the sources through it, and ``Settings.from_flat``
builds settings from flat names. ``docs/configuration.md`` says what each setting means.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.errors import ConfigError
from orchestrator.names import check_name

DEV_CLIENT_TOKEN = "dev-client-token"
DEV_WORKER_TOKEN = "dev-worker-token"
DEV_WEBHOOK_SECRET = "dev-webhook-secret"
SIGV4_LONGEST_S = 7 * 24 * 3600
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

Cast = Callable[[Any], Any]


def boolean(value: object) -> bool:
    if isinstance(value, bool):  # YAML has booleans of its own
        return value
    lowered = str(value).strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("not a boolean (use true or false)")


def names(value: object) -> tuple[str, ...]:
    """A comma-separated list (a YAML list arrives joined with commas)."""
    return tuple(p.strip() for p in str(value).split(",") if p.strip())


class Group:
    """A group of settings; ``problems`` says what is wrong with its values."""

    def problems(self) -> Iterator[str]:
        yield from ()


def setting(flat: str, default: Any, cast: Cast | None, *, secret: bool = False) -> Any:
    """A field filled by the flat name ``flat``, whose text ``cast`` reads (None: a structure
    of the config file, never in the environment)."""
    meta = {"flat": flat, "cast": cast}
    if isinstance(default, dict):
        return field(default_factory=dict, repr=not secret, metadata=meta)
    return field(default=default, repr=not secret, metadata=meta)


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``burst`` requests at once, refilled at ``rate_per_s``."""

    rate_per_s: float
    burst: int

    def problems(self, who: str) -> Iterator[str]:
        # NaN and infinity would reach the Lua script as text it cannot read
        if not (math.isfinite(self.rate_per_s) and self.rate_per_s > 0 and self.burst >= 1):
            yield f"rate limit of {who}: rate must be > 0 and burst >= 1"


@dataclass(frozen=True)
class ClientToken:
    name: str
    """Who the client is: jobs belong to it, and other clients never see them."""
    token: str = field(repr=False)  # settings get printed while debugging; tokens must not
    rate_limit: RateLimit | None = None
    """This client's own /api limit; None takes the ``rate_limits`` of every client."""
    can_manage_blueprints: bool = False
    """May register, replace and retire blueprints over HTTP (``POST /api/v1/blueprints``)."""
    can_manage_workers: bool = False
    """May drain workers (``POST /api/v1/workers/{id}/drain``): an operator's right."""


@dataclass(frozen=True)
class TaskLimit:
    """Limits of one task type across the deployment (``task_types``); 0 is no limit."""

    max_in_flight: int = 0
    """Deliveries of the type out with workers at once."""
    max_per_second: float = 0.0
    """Deliveries handed out a second (a token bucket of one second's worth)."""


@dataclass(frozen=True)
class Http(Group):
    host: str = setting("host", "127.0.0.1", str)
    port: int = setting("port", 8080, int)
    max_body_bytes: int = setting("max_body_bytes", 1024 * 1024, int)
    shutdown_timeout_s: float = setting("shutdown_timeout_s", 1.5, float)
    trusted_proxies: tuple[str, ...] = setting("trusted_proxies", (), names)
    console_enabled: bool = setting("console_enabled", True, boolean)

    def problems(self) -> Iterator[str]:
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                yield f"trusted_proxies: {proxy!r} is not an IP address or network"


@dataclass(frozen=True)
class Redis(Group):
    url: str | None = setting("redis_url", None, str)
    """None runs the embedded, in-process store (nothing durable)."""
    key_prefix: str = setting("key_prefix", "orch", str)
    max_connections: int = setting("redis_max_connections", 32, int)

    def problems(self) -> Iterator[str]:
        yield from _bad_names("key prefix", [self.key_prefix])
        if self.max_connections < 4:
            yield (
                "redis_max_connections must be >= 4 (the pub/sub connection, the hot round"
                " trips', the stall watch's ping, and at least one pooled)"
            )


@dataclass(frozen=True)
class Auth(Group):
    clients: tuple[ClientToken, ...] = setting("clients", (), None)
    worker_token: str | None = setting("worker_token", None, str, secret=True)
    worker_tokens: Mapping[str, str] = setting("worker_tokens", {}, None, secret=True)
    """worker id → token bound to that worker id only."""
    approval_secret: str = setting("approval_secret", "", str, secret=True)
    """Key of the per-job approval tokens; unset, the sources derive one from the tokens."""

    def problems(self) -> Iterator[str]:
        if not self.clients:
            yield "no client tokens: add 'clients' to the config file (or use --dev)"
        if self.worker_token is None and not self.worker_tokens:
            yield "no worker token: add 'workers' to the config file (or use --dev)"
        yield from _bad_names("client name", [c.name for c in self.clients])
        for c in self.clients:
            yield from c.rate_limit.problems(f"client {c.name!r}") if c.rate_limit else ()


@dataclass(frozen=True)
class Workers(Group):
    """What workers are told and held to: leases, heartbeats, long-polls, liveness."""

    lease_s: float = setting("lease_s", 30.0, float)
    heartbeat_interval_s: float = setting("heartbeat_interval_s", 10.0, float)
    poll_timeout_s: float = setting("poll_timeout_s", 30.0, float)
    ttl_s: float = setting("worker_ttl_s", 60.0, float)

    def problems(self) -> Iterator[str]:
        if self.heartbeat_interval_s >= self.lease_s:
            yield "heartbeat_interval_s must be shorter than lease_s"


@dataclass(frozen=True)
class Sweeps(Group):
    """How soon leases, backoffs, timers and webhook retries are checked again: ``interval_s``
    after a sweep that found some due, else ``idle_interval_s`` (at most ``lease_s``)."""

    interval_s: float = setting("sweep_interval_s", 0.5, float)
    idle_interval_s: float = setting("sweep_idle_interval_s", 5.0, float)

    def problems(self) -> Iterator[str]:
        if not (0 < self.interval_s < math.inf and 0 < self.idle_interval_s < math.inf):
            yield "sweep_interval_s and sweep_idle_interval_s must be finite and > 0"


@dataclass(frozen=True)
class RateLimits(Group):
    """The /api limits (``docs/operations.md``); a client's own ``rate_limit`` replaces
    ``client_*``."""

    enabled: bool = setting("rate_limits_enabled", True, boolean)
    client_rate_per_s: float = setting("client_rate_per_s", 5000.0, float)
    client_burst: int = setting("client_burst", 10000, int)
    ip_rate_per_s: float = setting("ip_rate_per_s", 10000.0, float)
    ip_burst: int = setting("ip_burst", 20000, int)

    def problems(self) -> Iterator[str]:
        yield from RateLimit(self.client_rate_per_s, self.client_burst).problems("client")
        yield from RateLimit(self.ip_rate_per_s, self.ip_burst).problems("ip")


@dataclass(frozen=True)
class S3(Group):
    """Job files (``docs/files.md``); without a bucket the files endpoints answer 501."""

    bucket: str | None = setting("s3_bucket", None, str)
    endpoint_url: str | None = setting("s3_endpoint_url", None, str)
    region: str = setting("s3_region", "us-east-1", str)
    access_key_id: str | None = setting("s3_access_key_id", None, str)
    secret_access_key: str | None = setting("s3_secret_access_key", None, str, secret=True)
    key_prefix: str = setting("s3_key_prefix", "jobs", str)
    presign_expires_s: int = setting("s3_presign_expires_s", 3600, int)
    max_expires_s: int = setting("s3_max_expires_s", SIGV4_LONGEST_S, int)
    max_upload_bytes: int = setting("s3_max_upload_bytes", 5 * 1024**3, int)

    def problems(self) -> Iterator[str]:
        if not self.bucket:
            return
        if (self.access_key_id is None) != (self.secret_access_key is None):
            yield "s3_access_key_id and s3_secret_access_key must be set together"
        url = self.endpoint_url
        if url is not None and not url.startswith(("http://", "https://")):
            yield "s3_endpoint_url must be an http(s) URL"
        prefix = self.key_prefix
        if not prefix or prefix.startswith("/") or prefix.endswith("/") or "//" in prefix:
            yield "s3_key_prefix must be non-empty, without leading/trailing or double /"
        elif ".." in prefix.split("/"):
            yield "s3_key_prefix must not hold '..'"
        if not 1 <= self.max_expires_s <= SIGV4_LONGEST_S:
            yield f"s3_max_expires_s must be between 1 and {SIGV4_LONGEST_S}"
        if not 1 <= self.presign_expires_s <= self.max_expires_s:
            yield "s3_presign_expires_s must be between 1 and s3_max_expires_s"
        if self.max_upload_bytes < 1:
            yield "s3_max_upload_bytes must be >= 1"


def _hosts(value: object) -> tuple[str, ...]:
    return tuple(h.lower() for h in names(value))


@dataclass(frozen=True)
class Webhooks(Group):
    secret: str = setting("webhook_secret", "", str, secret=True)
    """Key of the webhook signatures (``docs/webhooks.md``); empty: webhooks are off."""
    allowed_hosts: tuple[str, ...] = setting("webhook_allowed_hosts", (), _hosts)
    timeout_s: float = setting("webhook_timeout_s", 10.0, float)
    max_attempts: int = setting("webhook_max_attempts", 10, int)
    backoff_s: float = setting("webhook_backoff_s", 1.0, float)
    backoff_max_s: float = setting("webhook_backoff_max_s", 300.0, float)
    max_in_flight: int = setting("webhook_max_in_flight", 256, int)
    max_per_host: int = setting("webhook_max_per_host", 64, int)

    def problems(self) -> Iterator[str]:
        if not (0 < self.timeout_s < math.inf and self.backoff_s > 0):
            yield "webhook_timeout_s and webhook_backoff_s must be finite and > 0"
        if self.max_attempts < 1:
            yield "webhook_max_attempts must be >= 1"
        if not self.backoff_s <= self.backoff_max_s < math.inf:
            yield "webhook_backoff_max_s must be finite and >= webhook_backoff_s"
        if self.max_in_flight < 1 or self.max_per_host < 1:
            yield "webhook_max_in_flight and webhook_max_per_host must be >= 1"


@dataclass(frozen=True)
class Logs(Group):
    level: str = setting("log_level", "INFO", lambda v: str(v).upper())
    format: str = setting("log_format", "text", lambda v: str(v).lower())

    def problems(self) -> Iterator[str]:
        if self.format not in LOG_FORMATS:
            yield f"log_format must be one of {', '.join(LOG_FORMATS)}"
        if self.level not in LOG_LEVELS:
            yield f"log_level must be one of {', '.join(LOG_LEVELS)}"


@dataclass(frozen=True)
class Settings:
    http: Http = Http()
    redis: Redis = Redis()
    auth: Auth = Auth()
    workers: Workers = Workers()
    sweeps: Sweeps = Sweeps()
    rate_limits: RateLimits = RateLimits()
    s3: S3 = S3()
    webhooks: Webhooks = Webhooks()
    logs: Logs = Logs()
    blueprints: tuple[str, ...] = setting("blueprints", (), names)
    """Modules (``pkg.mod`` or ``pkg.mod:attr``) or YAML files whose blueprints are served."""
    dev_mode: bool = setting("dev_mode", False, boolean)
    retention_s: int = setting("retention_s", 7 * 24 * 3600, int)
    task_types: Mapping[str, TaskLimit] = setting("task_types", {}, None)
    """Limits per task type, enforced at each claim (a change takes effect on restart)."""

    @classmethod
    def from_flat(cls, **values: Any) -> Settings:
        """The defaults, with the settings given by flat name: ``from_flat(lease_s=2.0)``."""
        settings = cls()
        for name, value in values.items():
            if name not in FLAT:
                raise TypeError(f"unknown setting {name!r}")
            settings = _replaced(settings, FLAT[name][0].split("."), value)
        return settings

    def with_dev_defaults(self) -> Settings:
        if not self.dev_mode:
            return self
        auth, worker_token = self.auth, self.auth.worker_token
        if worker_token is None and not auth.worker_tokens:
            worker_token = DEV_WORKER_TOKEN
        clients = auth.clients or (ClientToken("dev", DEV_CLIENT_TOKEN),)
        secret = self.webhooks.secret or DEV_WEBHOOK_SECRET
        return dataclasses.replace(
            self,
            auth=dataclasses.replace(auth, clients=clients, worker_token=worker_token),
            webhooks=dataclasses.replace(self.webhooks, secret=secret),
        )

    def check(self) -> Settings:
        """Self, or a ``ConfigError`` that lists every problem."""
        groups = [getattr(self, f.name) for f in dataclasses.fields(self)]
        found = [p for g in groups if isinstance(g, Group) for p in g.problems()]
        if found:
            raise ConfigError.listing("bad configuration", found)
        return self


def _replaced(obj: Any, path: list[str], value: Any) -> Any:
    inner = value if len(path) == 1 else _replaced(getattr(obj, path[0]), path[1:], value)
    return dataclasses.replace(obj, **{path[0]: inner})


def _bad_names(kind: str, values: list[str]) -> Iterator[str]:
    for value in values:
        try:
            check_name(kind, value)
        except ValueError as exc:
            yield str(exc)


def _flat(cls: type, path: str = "") -> Iterator[tuple[str, tuple[str, Cast | None]]]:
    for f in dataclasses.fields(cls):
        if "flat" in f.metadata:
            yield f.metadata["flat"], (path + f.name, f.metadata["cast"])
        else:
            yield from _flat(type(f.default), f"{path}{f.name}.")


FLAT: dict[str, tuple[str, Cast | None]] = dict(_flat(Settings))
"""Flat name → the dotted path of its field, and how its text is read (None: file only)."""
