"""This process's copy of the registered blueprints, kept in step with Redis.

Every process loads them all when it starts, then follows the announcements on the
``blueprints`` channel; a poll of the change counter every second catches an announcement
lost to a pub/sub reconnect. A job step on a version not heard of yet loads that version
on the spot (``BlueprintRegistry.find_version``), so no job fails for being a moment early.

It reads the store (``storage/registered.py``), so it is shell code: the registry it fills
(``blueprint/registry.py``) holds blueprints and does no I/O.
"""

from __future__ import annotations

import logging

from orchestrator.blueprint.dsl import Blueprint
from orchestrator.blueprint.registry import BlueprintRegistry
from orchestrator.intake.submitted import from_record
from orchestrator.storage.registered import Entry, Record, RegisteredStore
from orchestrator.workflows.build import Built

log = logging.getLogger("orchestrator.blueprints")


class Mirror:
    def __init__(self, store: RegisteredStore, registry: BlueprintRegistry) -> None:
        self.store = store
        self.registry = registry
        self.built: dict[tuple[str, str], tuple[Blueprint, Built | None]] = {}
        """(name, version) → what it compiled to; versions never change, so never rebuilt."""
        self._seen_seq = -1
        registry.fetch_version = self.fetch_version

    async def sync(self, *, force: bool = False) -> None:
        """Apply every change since the last sync (all of them the first time)."""
        seq = await self.store.sequence()
        if seq == self._seen_seq and not force:
            return
        for name, entry in (await self.store.entries()).items():
            await self.apply(name, entry)
        self._seen_seq = seq

    async def on_announce(self, message: bytes) -> None:
        await self.sync(force=True)

    async def apply(self, name: str, entry: Entry) -> None:
        missing = [v for v in entry.versions if (name, v) not in self.built]
        for record in await self.store.records(name, missing):
            self._build(record)
        for version in entry.versions:
            found = self.built.get((name, version))
            if found is not None and version != entry.current:
                self.registry.keep(found[0])
        current = self.built.get((name, entry.current))
        if current is None:
            return
        if not entry.retired and self.registry.get(name) is current[0]:
            return  # served as it is already: no need to validate it again
        try:
            self.registry.put(current[0])
        except ValueError as exc:  # two names raced for one route: the first one keeps it
            log.error("registered blueprint %s not served: %s", name, exc)
            return
        if entry.retired:
            self.registry.retire(name)

    def install(self, bp: Blueprint, built: Built | None) -> None:
        """Serve a version this process just stored, without waiting for its announcement."""
        self.built[(bp.name, bp.version)] = (bp, built)
        self.registry.put(bp)

    async def fetch_version(self, name: str, version: str) -> Blueprint | None:
        record = await self.store.record(name, version)
        if record is None:
            return None
        bp = self._build(record)
        if bp is not None:
            self.registry.keep(bp)
        return bp

    def compiled(self, name: str, version: str) -> Built | None:
        found = self.built.get((name, version))
        return found[1] if found else None

    def _build(self, record: Record) -> Blueprint | None:
        try:
            bp, built = from_record(record.kind, record.source)
        except Exception:  # stored valid; a later release that refuses it must not stop us
            log.exception("cannot load registered blueprint %s %s", record.name, record.version)
            return None
        self.built[(record.name, record.version)] = (bp, built)
        return bp
