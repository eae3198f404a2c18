"""The bus hears pub/sub messages without redis-py formatting each for a debug line: an end
carries its whole job (``storage/end_message.py``)."""

from __future__ import annotations

import logging

import pytest
import redis.asyncio as aioredis

from orchestrator.dispatch.bus import Bus
from tests.helpers import wait_for


async def test_a_message_heard_is_not_formatted_for_the_log(
    redis_url: str, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="push_response")
    redis = aioredis.Redis.from_url(redis_url)
    bus = Bus(redis)
    heard: list[bytes] = []
    channel = f"{prefix}:ended"
    await bus.subscribe(channel, heard.append)
    bus.start()
    message = b"job\x00" + b"x" * 4096
    try:
        await redis.publish(channel, message)
        await wait_for(lambda: heard, 5.0, what="the message heard")
    finally:
        await bus.stop()
        await redis.aclose()

    assert heard == [message]
    assert [r.getMessage()[:20] for r in caplog.records if r.name == "push_response"] == []
