"""Blueprints registered over HTTP, kept in Redis: every version, and which one is current.

Keys, all with the hash tag ``{bp}`` so that one transaction writes them on Redis Cluster:

- ``{prefix}:{bp}:defs``: hash, ``name|version`` → the record (kind, source, when, by whom).
  Versions are never removed: a job runs on the version it started on, however long it takes.
- ``{prefix}:{bp}:index``: hash, name → ``{"current", "versions", "retired", "kind"}``.
- ``{prefix}:{bp}:seq``: a counter bumped by every change, which each process polls to catch
  an announcement it missed.

Every change is one MULTI/EXEC guarded by WATCH on the index, so two processes changing the
same name at once cannot lose a version. After it, the change is published on
``{prefix}:blueprints`` (``name|version``) for every process to load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import WatchError

from orchestrator.storage.keys import Keys

MAX_TRIES = 20


@dataclass(frozen=True)
class Record:
    name: str
    version: str
    kind: str
    """``yaml`` (a YAML blueprint document) or ``workflow`` (a seed-003 workflow, as JSON)."""
    source: str
    registered_at: float
    registered_by: str

    def to_json(self) -> bytes:
        return orjson.dumps(self.__dict__)

    @staticmethod
    def from_json(raw: bytes | str) -> Record:
        return Record(**orjson.loads(raw))


@dataclass(frozen=True)
class Entry:
    """What the index says of a name."""

    current: str
    versions: list[str]
    retired: bool
    kind: str

    @staticmethod
    def from_json(raw: bytes | str) -> Entry:
        data: dict[str, Any] = orjson.loads(raw)
        return Entry(data["current"], list(data["versions"]), bool(data["retired"]), data["kind"])

    def to_json(self) -> bytes:
        return orjson.dumps(self.__dict__)


class Changed(Exception):
    """The name's entry is not what the caller expected (it changed, or exists, or not)."""

    def __init__(self, entry: Entry | None) -> None:
        super().__init__("registered blueprint changed")
        self.entry = entry


class RegisteredStore:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        p = keys.prefix
        self.defs = f"{p}:{{bp}}:defs"
        self.index = f"{p}:{{bp}}:index"
        self.seq = f"{p}:{{bp}}:seq"
        self.channel = f"{p}:blueprints"

    async def entry(self, name: str) -> Entry | None:
        raw = await self.redis.hget(self.index, name)
        return Entry.from_json(raw) if raw is not None else None

    async def entries(self) -> dict[str, Entry]:
        raw: dict[Any, Any] = await self.redis.hgetall(self.index)
        return {_text(k): Entry.from_json(v) for k, v in raw.items()}

    async def record(self, name: str, version: str) -> Record | None:
        raw = await self.redis.hget(self.defs, f"{name}|{version}")
        return Record.from_json(raw) if raw is not None else None

    async def records(self, name: str, versions: list[str]) -> list[Record]:
        if not versions:
            return []
        raw = await self.redis.hmget(self.defs, [f"{name}|{v}" for v in versions])
        return [Record.from_json(r) for r in raw if r is not None]

    async def sequence(self) -> int:
        return int(await self.redis.get(self.seq) or 0)

    async def save(self, record: Record, *, create: bool) -> tuple[Entry, bool]:
        """Store ``record`` as its name's current version.

        ``create``: the name must be new or retired (POST), else it must exist (PUT); a
        mismatch raises ``Changed``. Returns (the entry, whether anything changed): the
        current version registered again changes nothing.
        """

        def change(old: Entry | None) -> Entry | None:
            live = old is not None and not old.retired
            if create and live and old is not None and old.current != record.version:
                raise Changed(old)
            if not create and old is None:
                raise Changed(None)
            if old is not None and old.current == record.version and not old.retired:
                return None
            versions = list(old.versions) if old else []
            if record.version not in versions:
                versions.append(record.version)
            return Entry(record.version, versions, False, record.kind)

        return await self._update(record.name, change, record)

    async def retire(self, name: str) -> tuple[Entry, bool]:
        def change(old: Entry | None) -> Entry | None:
            if old is None:
                raise Changed(None)
            if old.retired:
                return None
            return Entry(old.current, old.versions, True, old.kind)

        return await self._update(name, change, None)

    async def _update(self, name: str, change: Any, record: Record | None) -> tuple[Entry, bool]:
        for _ in range(MAX_TRIES):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(self.index)
                    raw = await pipe.hget(self.index, name)
                    old = Entry.from_json(raw) if raw is not None else None
                    new = change(old)
                    if new is None:
                        await pipe.reset()  # type: ignore[no-untyped-call]
                        assert old is not None
                        return old, False
                    pipe.multi()  # type: ignore[no-untyped-call]
                    if record is not None:
                        pipe.hsetnx(self.defs, f"{name}|{record.version}", record.to_json())
                    pipe.hset(self.index, name, new.to_json())
                    pipe.incr(self.seq)
                    await pipe.execute()
                except WatchError:
                    continue
            await self.redis.publish(self.channel, f"{name}|{new.current}")
            return new, True
        raise Changed(None)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
