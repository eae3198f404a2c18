"""Redis Cluster: the client, the pub/sub node and the health of every primary.

``--redis-url redis+cluster://host:port,host:port,...`` selects this mode: the hosts are seed
nodes (any of them answering is enough; the client learns the topology from it). Everything
else in the store is the same code as on one Redis: ``redis.asyncio.RedisCluster`` routes each
command and each ``EVALSHA`` to its key's slot, splits non-transactional pipelines into one
round trip per node (sent concurrently), sends ``SCRIPT LOAD`` and ``SCAN`` to every primary,
and splits multi-key ``UNLINK`` per slot.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import unquote

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import (
    ClusterDownError,
    MasterDownError,
    RedisError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

SCHEME = "redis+cluster://"

SLOTS = 16384

FAILOVER_S = 8.0
"""How long a command or pipeline keeps retrying while a primary is unreachable. A failover
takes the cluster's node timeout plus an election (2 to 3 s with ``cluster-node-timeout
1000``); redis-py's own retries re-read the topology at once, without waiting, and give up
sooner. Bounded, so a cluster that stays down answers 503 instead of holding requests."""

BACKOFF_MAX_S = 0.5

HINT_GRACE_S = 10.0
"""On Cluster a commit parks each new ready entry in the delayed queue until its job write has
won (``RedisStore._ready_after_write``); the entry is due after this long only if the process
died or lost its storage between the two steps, so the task is late then, never lost."""

_TRANSIENT = (
    RedisConnectionError,
    RedisTimeoutError,
    ClusterDownError,
    TryAgainError,
    MasterDownError,
    SlotNotCoveredError,
)

_CLOSED_UNDER_US = (RuntimeError, AttributeError)
"""What a command meets when redis-py closes every connection of the client while another
request writes on one (it does on ``CLUSTERDOWN``, to re-read the topology): uvloop's "handler
is closed" or a writer already gone, not a ``ConnectionError``. The write failed, so the
command is retried like one that met a dead node (bounded by ``FAILOVER_S`` all the same)."""

_RETRIED = _TRANSIENT + _CLOSED_UNDER_US


def is_cluster_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(SCHEME)


def seeds(url: str) -> tuple[list[tuple[str, int]], str | None, str | None]:
    """``redis+cluster://[user:password@]h1:p1,h2:p2`` → ([(h1, p1), ...], user, password)."""
    rest = url[len(SCHEME) :].split("/", 1)[0]
    user = password = None
    if "@" in rest:
        auth, rest = rest.rsplit("@", 1)
        user, _, password = auth.partition(":")
        user, password = unquote(user) or None, unquote(password) or None
    nodes = []
    for part in filter(None, rest.split(",")):
        host, _, port = part.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"cluster node {part!r} is not host:port")
        nodes.append((host.strip("[]"), int(port)))
    if not nodes:
        raise ValueError("redis+cluster:// names no node")
    return nodes, user, password


class _Pipeline(ClusterPipeline):
    """redis-py blocks ``pipe.evalsha`` and ``pipe.publish`` on Cluster pipelines, not the
    commands: an ``EVALSHA`` naming its keys routes to their slot like any keyed command (our
    scripts touch one slot each), and a classic ``PUBLISH`` reaches subscribers on every node
    from any node. Allowing them keeps the store's one-round-trip-per-node pipelines as they
    are on one Redis."""

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> Any:
        """Retries the commands that met a dead primary until its replica takes over (up to
        ``FAILOVER_S``); commands that got a reply are not sent again. Safe to repeat: a job
        write is a compare-and-set, queue and timer writes are idempotent, and a repeated
        PUBLISH costs one spurious wake-up."""
        strategy: Any = self._execution_strategy
        queued = list(strategy._command_queue)
        if not queued:
            return []
        deadline, delay = time.monotonic() + FAILOVER_S, 0.05
        while True:
            try:
                results: list[Any] = await super().execute(False, allow_redirections)
            except _RETRIED:
                if time.monotonic() > deadline:
                    raise
                for command in queued:
                    command.result = None  # unknown: send them all again
                results = []  # no reply at all: wait and send them again
            if results and not any(isinstance(r, _RETRIED) for r in results):
                break
            if results and time.monotonic() > deadline:
                break  # the errors go to the caller below, as on one Redis
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)
            strategy._command_queue = list(queued)  # execute() emptied it
        if raise_on_error:
            for result in results:
                if isinstance(result, Exception):
                    raise result
        return results

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any:
        return self.execute_command("EVALSHA", sha, numkeys, *keys_and_args)

    def publish(self, channel: Any, message: Any, **kwargs: Any) -> Any:
        return self.execute_command("PUBLISH", channel, message, **kwargs)


def publish_to_worker(pipe: Any, redis: Any, channel: str, message: Any) -> None:
    """Queues a worker command: ``SPUBLISH`` on Cluster, where the channel's slot's primary
    answers with its exact subscriber count (the bus subscribes there, ``dispatch/bus.py``);
    a classic ``PUBLISH`` would count only the subscribers of the node it was sent to."""
    if isinstance(redis, RedisCluster):
        pipe.spublish(channel, message)
    else:
        pipe.publish(channel, message)


class OrchestratorCluster(RedisCluster):
    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        if "target_nodes" in kwargs:  # one named node (health): its answer, now
            return await super().execute_command(*args, **kwargs)
        deadline, delay = time.monotonic() + FAILOVER_S, 0.05
        while True:
            try:
                return await super().execute_command(*args, **kwargs)
            except _RETRIED:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX_S)

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> Any:
        if transaction:
            # MULTI/EXEC on one slot (stats, registered blueprints): redis-py's own
            return super().pipeline(transaction, shard_hint)
        return _Pipeline(self, transaction)  # type: ignore[abstract]  # as redis-py does


def cluster_client(url: str, max_connections: int) -> RedisCluster:
    nodes, user, password = seeds(url)
    return OrchestratorCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in nodes],
        username=user,
        password=password,
        # per node: a process holds at most this many connections to each primary
        max_connections=max_connections,
        # No redis-py retries: ours (above) wait for a failover, and redis-py's pipeline retry
        # closes the whole client, breaking the commands of concurrent requests mid-send.
        # Redirections (MOVED, ASK) are followed either way; a connection error makes the
        # next attempt re-read the topology.
        retry=Retry(NoBackoff(), 0),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_connect_timeout=1.0,
        socket_timeout=5.0,
    )


def _node_client(cluster: RedisCluster, node: ClusterNode) -> Redis:
    kwargs = cluster.get_connection_kwargs()
    return Redis(
        host=node.host,
        port=int(node.port),
        username=kwargs.get("username"),
        password=kwargs.get("password"),
        socket_connect_timeout=1.0,
    )


async def shard_client(cluster: RedisCluster, channel: str) -> Redis:
    """A plain connection to the primary serving ``channel``'s slot, for sharded pub/sub
    (``SSUBSCRIBE``). A keyed read first lets the client follow ``MOVED`` and wait out a
    failover (``FAILOVER_S``), so after one the connection goes to the promoted replica."""
    await cluster.exists(channel)
    node = cluster.get_node_from_key(channel)
    if node is None:
        raise SlotNotCoveredError(f"no primary serves {channel!r}")
    return _node_client(cluster, node)


def pubsub_client(cluster: RedisCluster, turn: int) -> Redis:
    """A plain connection to one node for classic pub/sub. Redis Cluster forwards a classic
    ``PUBLISH`` to every node, replicas included, so any node will do; ``turn`` walks through
    the known nodes, so that after a node dies the bus moves to another one."""
    # before the client's first command (the bus is built at start-up) only the seeds are known
    nodes = cluster.get_nodes() or list(cluster.nodes_manager.startup_nodes.values())
    return _node_client(cluster, nodes[turn % len(nodes)])


async def health(cluster: RedisCluster) -> tuple[bool, dict[str, Any]]:
    """Every primary the client knows, pinged; ok only if each answers and the cluster says
    every slot is served (``cluster_state:ok``, all 16384 slots assigned and ok)."""
    primaries: list[dict[str, Any]] = []
    ok = True
    for node in cluster.get_primaries():
        entry: dict[str, Any] = {"node": node.name}
        try:
            info: Any = await cluster.cluster_info(target_nodes=node)
            entry["state"] = str(info.get("cluster_state"))
            entry["slots_ok"] = int(info.get("cluster_slots_ok", 0))
            if entry["state"] != "ok" or entry["slots_ok"] != SLOTS:
                ok = False
        except (RedisError, OSError) as exc:
            entry["state"] = "unreachable"
            entry["error"] = str(exc)
            ok = False
        primaries.append(entry)
    if not primaries:
        ok = False
    return ok, {"primaries": primaries}
