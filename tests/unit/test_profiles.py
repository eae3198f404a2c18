"""``Profiles`` (``dispatch/profiles.py``): copies of workers' records, read once, forgotten
when announced changed, refreshed in batches."""

from __future__ import annotations

import asyncio
from typing import Any

from orchestrator.dispatch.profiles import DROP_AFTER, Profiles


def _info(worker_id: str, *skills: str) -> dict[str, Any]:
    return {"worker_id": worker_id, "supported_skills": list(skills)}


class Records:
    """A stand-in for Redis's records, counting the reads; ``hold`` keeps reads waiting."""

    def __init__(self) -> None:
        self.infos: dict[str, dict[str, Any]] = {}
        self.reads: list[list[str]] = []
        self.hold: asyncio.Event | None = None

    async def read(self, worker_ids: list[str]) -> list[dict[str, Any] | None]:
        self.reads.append(list(worker_ids))
        found = [self.infos.get(w) for w in worker_ids]  # as Redis answered when asked
        if self.hold is not None:
            await self.hold.wait()
        return found


async def test_a_copy_is_read_once_and_again_after_a_change() -> None:
    records = Records()
    records.infos["w"] = _info("w", "a")
    known = Profiles(records.read)
    assert (await known.get("w")) is not None
    assert (await known.get("w")) is not None
    assert records.reads == [["w"]]
    records.infos["w"] = _info("w", "b")
    known.changed("w")
    profile = await known.get("w")
    assert profile is not None and profile.skills == ("b",)
    assert await known.get("ghost") is None
    assert "ghost" not in known


async def test_a_read_in_flight_when_a_change_is_announced_is_not_kept() -> None:
    records = Records()
    records.infos["w"] = _info("w", "old")
    known = Profiles(records.read)
    records.hold = asyncio.Event()
    reading = asyncio.create_task(known.get("w"))
    await asyncio.sleep(0)  # the read has left with the old record
    assert records.reads == [["w"]]
    records.infos["w"] = _info("w", "new")
    known.changed("w")
    records.hold.set()
    await reading  # this poll had its answer; the next one reads again
    assert "w" not in known
    records.hold = None
    profile = await known.get("w")
    assert profile is not None and profile.skills == ("new",)


async def test_a_read_in_flight_when_this_process_writes_the_record_is_not_kept() -> None:
    records = Records()
    records.infos["w"] = _info("w", "old")
    known = Profiles(records.read)
    known.put(records.infos["w"])
    records.hold = asyncio.Event()
    refreshing = asyncio.create_task(known.refresh())
    await asyncio.sleep(0)  # the refresh has left with the old record
    records.infos["w"] = _info("w", "new")
    known.put(records.infos["w"])  # a heartbeat here changed the skills
    records.hold.set()
    await refreshing
    profile = await known.get("w")
    assert profile is not None and profile.skills == ("new",)


async def test_refresh_reads_the_used_copies_in_one_batch_and_drops_long_unused_ones() -> None:
    records = Records()
    known = Profiles(records.read)
    for w in ("a", "b", "c"):
        records.infos[w] = _info(w, "x")
        known.put(records.infos[w])  # as a registration does
    await known.refresh()  # all new since the last: all read, in one batch
    assert records.reads == [["a", "b", "c"]]
    await known.get("a")
    del records.infos["a"]  # its record expired
    await known.refresh()
    assert records.reads[-1] == ["a"]  # b and c, unused since, are not read
    assert "a" not in known and len(known) == 2
    for _ in range(DROP_AFTER - 2):  # b and c were last used before the first refresh
        await known.refresh()
    assert len(known) == 2  # a worker polling less often than refreshes keeps its copy
    await known.refresh()
    assert len(known) == 0
    assert records.reads[-1] == ["a"]
    known.put(_info("d", "x"))
    known.forget_all()
    assert len(known) == 0
