"""Rate limits on /api requests that create or change work (job creation, cancel, retry,
uploads): a token bucket per client and per client IP, kept in Redis so that every
orchestrator process draws from the same buckets. Reads are not limited.

/_worker is not limited (workers hold a token we trust, and their long-polls are paced by the
server), nor is /_public. Unauthenticated requests are refused by the token check before they get
here, without a Redis call. When Redis does not answer, requests go through: the limiter
protects the service, it must not be the thing that takes it down.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import math
import time
from collections.abc import Sequence

from aiohttp import web
from redis.exceptions import RedisError

from orchestrator.api.render import json_response
from orchestrator.config import RateLimit, Settings
from orchestrator.errors import RateLimited
from orchestrator.storage.buckets import Bucket, take
from orchestrator.storage.redis_store import RedisStore

log = logging.getLogger("orchestrator.api.ratelimit")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

READS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Reads are not limited: each check costs Redis commands, and reads create no work."""

BATCH_FRACTION = 0.02
"""Tokens taken from Redis at once, as a fraction of the bucket's rate (at least one)."""
LOCAL_TOKENS_S = 1.0
"""Tokens held locally longer than this are dropped, so a quiet process keeps none back."""

MAX_LOCAL = 10_000

WARN_EVERY_S = 10.0
"""With Redis down every request fails open; one warning per this many seconds is enough."""


class RateLimiter:
    def __init__(self, settings: Settings, store: RedisStore) -> None:
        limits = settings.rate_limits
        self.enabled = limits.enabled
        self._store = store
        self._default = RateLimit(limits.client_rate_per_s, limits.client_burst)
        self._clients = {c.name: c.rate_limit for c in settings.auth.clients if c.rate_limit}
        self._ip = RateLimit(limits.ip_rate_per_s, limits.ip_burst)
        self._proxies = [
            ipaddress.ip_network(p, strict=False) for p in settings.http.trusted_proxies
        ]
        self._warned_at = -math.inf
        self._local: dict[tuple[str, str], tuple[int, float]] = {}
        """(kind, identity) → (tokens taken from Redis not spent yet, usable until)."""
        self._flights: dict[tuple[str, str], asyncio.Future[int]] = {}
        self._demand: dict[tuple[str, str], int] = {}
        """Requests waiting on a bucket's fetch in flight: the next fetch's size."""

    async def check(self, client: str, ip: str) -> web.Response | None:
        """None when the request may go on, else the 429 to answer.

        Tokens are taken from Redis a few at a time (a fiftieth of the rate) and spent
        here, so a busy client costs a Redis call every few dozen requests, not each one.
        A process may thus run ahead of the others by one such batch; tight limits (a batch
        of 1) stay exact.
        """
        c, i = self._clients.get(client, self._default), self._ip
        buckets = [
            Bucket("client", client, c.rate_per_s, c.burst),
            Bucket("ip", ip, i.rate_per_s, i.burst),
        ]
        now = time.monotonic()
        need = [b for b in buckets if not self._spend_local(b, now)]
        if not need:
            return None
        try:
            if len(need) == 1:
                waits = [await self._acquire(need[0])]
            else:
                waits = list(await asyncio.gather(*(self._acquire(b) for b in need)))
        except (RedisError, OSError) as exc:
            self._warn(exc)
            return None
        if not any(waits):
            return None
        for bucket, wait in zip(need, waits, strict=True):
            if not wait:  # refused by another bucket: this one's token goes back to the pool
                self._keep(bucket, 1, time.monotonic())
        return _refusal(need, waits)

    async def _acquire(self, bucket: Bucket) -> int:
        """Spends one token of ``bucket``: 0 when done, else ms until Redis has one.

        One fetch per bucket is in flight at a time, sized to the requests waiting for it:
        concurrent misses that each fetched a batch of their own would take the bucket
        many times over and, answered out of order, refuse requests it could serve."""
        key = (bucket.kind, bucket.identity)
        batch = max(1, int(min(bucket.rate_per_s, bucket.burst) * BATCH_FRACTION))
        while True:
            if self._spend_local(bucket, time.monotonic()):
                return 0
            flight = self._flights.get(key)
            if flight is not None:
                self._demand[key] = self._demand.get(key, 0) + 1
                try:
                    wait = await asyncio.shield(flight)
                except asyncio.CancelledError:
                    if flight.cancelled():  # its request went away: fetch anew
                        continue
                    raise
                if wait:
                    return wait
                continue
            flight = asyncio.get_running_loop().create_future()
            self._flights[key] = flight
            want = max(batch, self._demand.pop(key, 0) + 1)
            try:
                [(got, wait)] = await take(self._store, [bucket], int(time.time() * 1000), [want])
            except asyncio.CancelledError:
                flight.cancel()
                raise
            except Exception as exc:
                flight.set_exception(exc)
                flight.exception()  # retrieved: the waiters re-raise it, nobody else must
                raise
            finally:
                del self._flights[key]
            if got:
                self._keep(bucket, got, time.monotonic())
            flight.set_result(0 if got else wait)
            if not got:
                return wait

    def _keep(self, bucket: Bucket, tokens: int, now: float) -> None:
        key = (bucket.kind, bucket.identity)
        held = self._local.get(key)
        if held is not None and held[1] >= now:
            tokens += held[0]
        elif len(self._local) > MAX_LOCAL:  # many one-off IPs: forget the stale ones
            self._local = {k: v for k, v in self._local.items() if v[1] >= now}
        self._local[key] = (tokens, now + LOCAL_TOKENS_S)

    def _spend_local(self, bucket: Bucket, now: float) -> bool:
        key = (bucket.kind, bucket.identity)
        held = self._local.get(key)
        if held is None or held[1] < now:
            self._local.pop(key, None)
            return False
        left = held[0] - 1
        if left:
            self._local[key] = (left, held[1])
        else:
            del self._local[key]
        return True

    def client_ip(self, request: web.Request) -> str:
        """The peer's address, or the client's address in ``X-Forwarded-For`` when the peer
        is a trusted proxy (its bucket: ``_identity``)."""
        ip = _address(request.remote or "")
        if ip is None:
            return "unknown"
        if self._proxies and self._trusted(ip):
            ip = self._forwarded_for(request, ip)
        return _identity(ip)

    def _forwarded_for(self, request: web.Request, peer: Address) -> Address:
        hops = [h for v in request.headers.getall("X-Forwarded-For", ()) for h in v.split(",")]
        # From the nearest hop back: the first one that is not our proxy is the client; hops
        # further left are whatever the client chose to send.
        ip = peer
        for hop in reversed(hops):
            found = _address(hop.strip())
            if found is None:
                break
            ip = found
            if not self._trusted(found):
                break
        return ip

    def _trusted(self, ip: Address) -> bool:
        return any(ip in net for net in self._proxies)

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning("rate limiter cannot reach storage, letting requests through: %s", exc)


def _refusal(buckets: Sequence[Bucket], waits: Sequence[int]) -> web.Response | None:
    refused = [(wait, b.kind) for b, wait in zip(buckets, waits, strict=True) if wait]
    if not refused:
        return None
    wait_ms, kind = max(refused)
    retry_after_s = max(1, math.ceil(wait_ms / 1000))  # Retry-After counts whole seconds
    err = RateLimited(
        f"{kind} rate limit exceeded; retry after {retry_after_s} s",
        details={"retry_after_s": retry_after_s, "limit": kind},
    )
    return json_response(err.to_body(), status=429, headers={"Retry-After": str(retry_after_s)})


# Parsing and printing addresses was a fifth of a limited request's middleware time; the
# same few peers (proxies, busy clients) come back again and again, and both are pure.
@functools.lru_cache(maxsize=4096)
def _address(text: str) -> Address | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # a dual-stack socket's view of an IPv4 client
    return ip


@functools.lru_cache(maxsize=4096)
def _identity(ip: Address) -> str:
    """The bucket of ``ip``; IPv6 clients are counted per /64, what one host usually holds."""
    if ip.version == 6:
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)
