"""Classic vs. sharded pub/sub on a live 3-primary, 3-replica cluster: what the bus's three uses
would cost each way (docs/deployment.md, "Pub/sub on a Cluster").

    python3 bench/pubsub_cluster.py                 # 5000 messages per case
    python3 bench/pubsub_cluster.py --messages 20000 --concurrency 32

Cases: fan-out to 2 processes (wake-ups, job watches: every orchestrator process listens) and
to 1 (a worker command: only the process holding the worker's WebSocket listens). Classic
subscribers sit on different nodes (the bus picks any node); sharded ones on the channel's
slot's primary. Per case: messages/s, publish-to-delivery latency p50/p99, how often the
publish's answer equals the real subscriber count, and per node the CPU used and the pub/sub
messages the cluster bus carried (``CLUSTER INFO`` ``cluster_stats_messages_publish*``).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cluster.live import LiveCluster  # noqa: E402

CHANNEL = "bench:{w}:cmd:w1"


async def node_stats(port: int) -> dict[str, float]:
    r = Redis(port=port)
    try:
        cpu = await r.info("cpu")
        info = await r.cluster("info")
    finally:
        await r.aclose()
    raw = info if isinstance(info, dict) else {}
    bus = sum(int(v) for k, v in raw.items() if str(k).startswith("cluster_stats_messages_publish"))
    return {"cpu_ms": (cpu["used_cpu_sys"] + cpu["used_cpu_user"]) * 1000, "bus": bus}


async def case(live: LiveCluster, sharded: bool, fanout: int, n: int, conc: int) -> str:
    rc = RedisCluster(host="127.0.0.1", port=live.ports[0])
    await rc.initialize()
    owner = rc.get_node_from_key(CHANNEL)
    nodes = [p for p in live.ports if p != int(owner.port)]
    subs = []
    for i in range(fanout):
        port = int(owner.port) if sharded else nodes[i % len(nodes)]
        ps = Redis(port=port).pubsub(ignore_subscribe_messages=True)
        await (ps.ssubscribe if sharded else ps.subscribe)(CHANNEL)
        await ps.get_message(timeout=1)  # the confirmation, unignored on the first read
        subs.append(ps)
    await asyncio.sleep(0.2)
    latencies: list[float] = []
    sent = n // conc * conc

    async def listen(ps: Any) -> None:
        got = 0
        while got < sent:
            m = await ps.get_message(timeout=1)
            if m is not None and m["type"] in ("message", "smessage"):
                latencies.append(time.perf_counter() - float(m["data"]))
                got += 1

    before = {p: await node_stats(p) for p in live.ports}
    exact = 0

    async def publisher(count: int) -> None:
        nonlocal exact
        for _ in range(count):
            msg = repr(time.perf_counter())
            answer = await (rc.spublish if sharded else rc.publish)(CHANNEL, msg)
            exact += answer == fanout

    listeners = [asyncio.create_task(listen(ps)) for ps in subs]
    t0 = time.perf_counter()
    await asyncio.gather(*(publisher(n // conc) for _ in range(conc)))
    await asyncio.wait_for(asyncio.gather(*listeners), 30)
    elapsed = time.perf_counter() - t0
    after = {p: await node_stats(p) for p in live.ports}
    for ps in subs:
        await ps.aclose()
    await rc.aclose()
    latencies.sort()
    cpu = " ".join(
        f"{p}{'*' if p == int(owner.port) else ''}:{after[p]['cpu_ms'] - before[p]['cpu_ms']:.0f}"
        for p in live.ports
    )
    bus = sum(after[p]["bus"] - before[p]["bus"] for p in live.ports)
    return (
        f"{'sharded' if sharded else 'classic':8} fan-out {fanout}: {sent / elapsed:7.0f} msg/s"
        f"  p50 {statistics.median(latencies) * 1000:.2f} ms"
        f"  p99 {latencies[int(len(latencies) * 0.99)] * 1000:.2f} ms"
        f"  answer exact {exact * 100 // sent}%"
        f"  cluster-bus msgs {bus}  cpu ms per node (*: slot owner) {cpu}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    live = LiveCluster(Path(tempfile.mkdtemp(prefix="pubsub-bench-"))).start()
    try:
        for fanout in (2, 1):
            for sharded in (False, True):
                print(await case(live, sharded, fanout, args.messages, args.concurrency))
    finally:
        live.stop()


if __name__ == "__main__":
    asyncio.run(main())
