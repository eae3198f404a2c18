"""Token buckets in Redis (``lua/rate_limit.lua``), for the API's rate limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.exceptions import NoScriptError

from orchestrator.storage.redis_store import RedisStore


@dataclass(frozen=True)
class Bucket:
    kind: str
    """What the bucket counts: ``client``, ``ip``."""
    identity: str
    rate_per_s: float
    burst: int


async def take(
    store: RedisStore, buckets: Sequence[Bucket], now_ms: int, most: Sequence[int] | None = None
) -> list[tuple[int, int]]:
    """Takes up to ``most[i]`` (default 1) tokens from every bucket in one round trip;
    returns, per bucket, (tokens taken, milliseconds until one is there when none were).

    Each bucket sits in a hash slot of its own (so this runs on Redis Cluster), hence one
    script call per bucket rather than one over all: a request refused by one bucket has
    still spent a token of the others.
    """
    for _ in range(2):
        async with store.redis.pipeline(transaction=False) as pipe:
            for i, b in enumerate(buckets):
                # evalsha straight on the pipeline: the Script object would add a
                # SCRIPT EXISTS round trip to every request.
                key = store.keys.rate_bucket(b.kind, b.identity)
                n = most[i] if most else 1
                pipe.evalsha(store.scripts.rate_limit.sha, 1, key, now_ms, b.rate_per_s, b.burst, n)
            results = await pipe.execute(raise_on_error=False)
        if any(isinstance(r, NoScriptError) for r in results):
            # Redis lost its scripts (restarted without persistence): load them, go again.
            await store.scripts.load(store.redis)
            continue
        for result in results:
            if isinstance(result, Exception):
                raise result
        return [(int(taken), int(wait)) for taken, wait in results]
    # a RedisError, so that the limiter fails open on it like on any storage error
    raise NoScriptError("Redis refuses to keep the orchestrator's Lua scripts")
