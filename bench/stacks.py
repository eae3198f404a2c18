"""Where the time goes in a py-spy profile (``python3 dev.py bench --profile FILE``).

    python3 -m bench.stacks FILE [--top 25] [--idle]

FILE holds collapsed stacks (``py-spy record --format raw``): one line per distinct stack,
``frame;frame;...;frame count``, a frame being ``function (path:line)``. Prints the share of
the samples by package (the innermost frame's: where the CPU was), then the functions with the
most samples of their own, then those with the most samples in them or under them. ``--idle``
keeps the samples of an idle event loop (waiting in ``select``/``epoll``), left out otherwise.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<path>[^()]*?)(?::(?P<line>\d+))?\)$")
IDLE = ("select (selectors.py", "run_once (uvloop", "poll (selectors.py")

PACKAGES = (
    ("orchestrator/", "orchestrator (ours)"),
    ("worker_sdk/", "worker_sdk (ours)"),
    ("redis/", "redis-py"),
    ("aiohttp/", "aiohttp"),
    ("multidict/", "aiohttp"),
    ("yarl/", "aiohttp"),
    ("asyncio/", "asyncio"),
    ("uvloop/", "asyncio"),
    ("dataclasses.py", "dataclasses"),
    ("orjson", "orjson"),
    ("logging/", "logging"),
    ("json/", "json"),
    ("ssl.py", "ssl"),
    ("socket.py", "socket"),
    ("typing.py", "typing"),
    ("enum.py", "enum"),
)


def package(frame: str) -> str:
    match = FRAME.match(frame)
    path = match.group("path") if match else frame
    for marker, name in PACKAGES:
        if marker in path:
            return name
    if "<" in path or path == "":
        return "interpreter (gc, builtins)"
    return "other: " + path.rsplit("/", 1)[-1]


def short(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    path = match.group("path")
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match.group('func')} ({path})"


def read(path: Path, keep_idle: bool) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if not keep_idle and any(frames[-1].startswith(m) for m in IDLE):
            continue
        stacks.append((frames, int(count)))
    return stacks


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("file", type=Path)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--idle", action="store_true", help="keep the idle event loop's samples")
    args = p.parse_args()
    stacks = read(args.file, args.idle)
    total = sum(n for _, n in stacks) or 1
    by_package: Counter[str] = Counter()
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    for frames, n in stacks:
        by_package[package(frames[-1])] += n
        own[short(frames[-1])] += n
        for frame in {short(f) for f in frames}:
            under[frame] += n
    print(f"{total} samples (busy only)" if not args.idle else f"{total} samples")
    print("\nby package (innermost frame)")
    for name, n in by_package.most_common(args.top):
        print(f"  {100 * n / total:5.1f} %  {name}")
    print("\nfunctions, own samples")
    for name, n in own.most_common(args.top):
        print(f"  {100 * n / total:5.1f} %  {name}")
    print("\nfunctions, in them or under them")
    for name, n in under.most_common(args.top):
        print(f"  {100 * n / total:5.1f} %  {name}")


if __name__ == "__main__":
    main()
