"""Notifications kept in Redis, and the events that tell listeners about changes.

Keys, under a prefix (``NOTIFIER_PREFIX``, default ``notifications``):

* ``{p}:n:{id}``: one notification, JSON;
* ``{p}:all``, ``{p}:user:{user_id}``, ``{p}:global``: ids by creation time (sorted sets),
  for the newest-first lists;
* channel ``{p}:events``: ``{"event", "notification"}`` on every change (pub/sub), which
  the SSE stream relays.

A notification: ``{"id", "text", "variant", "user_id", "is_global", "read", "created_at"}``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.asyncio.client import PubSub

from orchestrator.blueprints.notifications import Notice
from orchestrator.blueprints.workers.clock import now_iso

Notification = dict[str, Any]

CREATE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
  redis.call('PUBLISH', ARGV[4], ARGV[5])
  return ARGV[1]
end
return redis.call('GET', KEYS[1])
"""
"""Store a notification, index it and announce it in one step, unless its id is stored
already (a task run twice): then answer the stored one. One script, so that a process that
dies half-way never leaves a notification the lists do not show."""


class NotificationStore:
    def __init__(self, redis: aioredis.Redis, prefix: str = "notifications") -> None:
        self.redis = redis
        self.prefix = prefix
        self.channel = f"{prefix}:events"

    def _key(self, notification_id: str) -> str:
        return f"{self.prefix}:n:{notification_id}"

    def _index(self, notification: Notification) -> str:
        # A global notification is everyone's, even if it also names a user.
        if notification["is_global"] or notification["user_id"] is None:
            return f"{self.prefix}:global"
        return f"{self.prefix}:user:{notification['user_id']}"

    async def create(self, notice: Notice, notification_id: str | None = None) -> Notification:
        """Store ``notice``; with an id already stored (a task run twice), the stored one."""
        notification: Notification = {
            "id": notification_id or uuid.uuid4().hex,
            "text": notice.text,
            "variant": notice.variant,
            "user_id": notice.user_id,
            "is_global": notice.is_global,
            "read": False,
            "created_at": now_iso(),
        }
        keys = [self._key(notification["id"]), f"{self.prefix}:all", self._index(notification)]
        args = [orjson.dumps(notification), time.time(), notification["id"], self.channel]
        args.append(_event("created", notification))
        stored: Any = await self.redis.eval(CREATE, len(keys), *keys, *args)
        return dict(orjson.loads(stored))

    async def get(self, notification_id: str) -> Notification | None:
        raw = await self.redis.get(self._key(notification_id))
        return None if raw is None else dict(orjson.loads(raw))

    async def list(self, skip: int, limit: int, user_id: str | None) -> list[Notification]:
        """Newest first; with ``user_id``, that user's notifications and the global ones."""
        if user_id is None:
            ids = await self.redis.zrevrange(f"{self.prefix}:all", skip, skip + limit - 1)
        else:
            # Enough of both lists to cover the page, merged by time.
            last = skip + limit - 1
            own = await self.redis.zrevrange(
                f"{self.prefix}:user:{user_id}", 0, last, withscores=True
            )
            wide = await self.redis.zrevrange(f"{self.prefix}:global", 0, last, withscores=True)
            merged = sorted([*own, *wide], key=lambda pair: pair[1], reverse=True)
            ids = [member for member, _ in merged[skip : skip + limit]]
        if not ids:
            return []
        raws = await self.redis.mget([self._key(_text(i)) for i in ids])
        return [dict(orjson.loads(raw)) for raw in raws if raw is not None]

    async def delete(self, notification_id: str) -> bool:
        notification = await self.get(notification_id)
        if notification is None:
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(notification_id))
            pipe.zrem(f"{self.prefix}:all", notification_id)
            pipe.zrem(self._index(notification), notification_id)
            pipe.publish(self.channel, _event("deleted", notification))
            await pipe.execute()
        return True

    async def delete_for_user(self, user_id: str) -> int:
        """Delete the notifications of ``user_id`` (not the global ones); how many."""
        ids = await self.redis.zrange(f"{self.prefix}:user:{user_id}", 0, -1)
        deleted = 0
        for member in ids:
            deleted += await self.delete(_text(member))
        return deleted

    async def mark_read(self, notification_id: str, read: bool = True) -> Notification | None:
        notification = await self.get(notification_id)
        if notification is None:
            return None
        notification["read"] = read
        stored = await self.redis.set(
            self._key(notification_id), orjson.dumps(notification), xx=True
        )
        if not stored:
            return None  # deleted meanwhile
        await self.redis.publish(self.channel, _event("read" if read else "unread", notification))
        return notification

    async def subscribe(self) -> PubSub:
        """A subscription to the changes from now on; read it with ``next_event``."""
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel)
        # Wait for Redis to confirm: only from then on is no published change missed.
        while await pubsub.get_message(timeout=5.0) is None:
            pass
        return pubsub

    async def close_subscription(self, pubsub: PubSub) -> None:
        await pubsub.unsubscribe(self.channel)
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped


def _text(member: Any) -> str:
    # Members come back as bytes: the client does not decode responses.
    return member.decode() if isinstance(member, bytes) else str(member)


def _event(name: str, notification: Notification) -> bytes:
    return orjson.dumps({"event": name, "notification": notification})


async def next_event(pubsub: PubSub, *, wait_s: float) -> dict[str, Any] | None:
    """The next ``{"event", "notification"}``, or ``None`` after ``wait_s`` seconds."""
    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=wait_s)
    if message is None or message["type"] != "message":
        return None
    return dict(orjson.loads(message["data"]))
