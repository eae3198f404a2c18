"""Clients waiting for a job to end (``GET /api/v1/jobs/{id}?wait=``), parked in memory.

Every process hears every job's end on one channel; only processes with a waiter for that
job do anything with it. A wake-up means "re-read the job", not "it ended": waiters are also
woken after a pub/sub reconnect (``wake_all``), when messages may have been lost. The
exceptions: an end this process committed hands the waiters the job it wrote (``ended_job``),
so they need not read back what this process holds already; and an end another process
committed comes with the job as it stored it (``storage/end_message.py``), handed over alike.

A wait for a job this process created, and has heard no end or change of since, starts
without reading it (``created``/``fresh``): it is not terminal, and every end from here on
reaches the waiters, since the channel was subscribed to before the job existed. A pub/sub
reconnect (``wake_all``) forgets them all, as messages may have been lost. The end of a job
can be heard before the commit that created it has returned here (another process claimed,
ran and ended it meanwhile): the ends heard lately are remembered, and such a job is never
taken as fresh.

A job finished or cancelled is kept a while as its end wrote it (``final``), whichever process
ended it (from another one: the message as it came, unpacked only when read): such a job never
changes again (only a failed or quarantined one can be retried), so a status read that comes
after its end is answered from memory.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from typing import TypeAlias

from orchestrator.engine.model import Job, JobStatus
from orchestrator.storage import end_message

Woken: TypeAlias = asyncio.Future[Job | None]
"""Resolves to None ("read the job again") or to the ended job this process committed."""

FRESH_MAX = 4096
"""Jobs created here remembered as not ended: the oldest are forgotten first (a wait for one
then reads it, as any other)."""


FINAL_MAX_JOBS = 512
FINAL_MAX_BYTES = 4 * 1024 * 1024
"""Bounds of the ended jobs kept (their stored size): a miss costs one read of the job."""
FINAL = frozenset({JobStatus.FINISHED, JobStatus.CANCELLED})
"""The end states a job never leaves."""


class JobWaiters:
    """Also woken by changes of watched jobs (live event streams), not only by ends."""

    def __init__(self, retention_s: float = float("inf")) -> None:
        self._retention_s = retention_s
        """How long an ended job stays stored (``retention_s``): a kept one answers no longer."""
        self._waiting: defaultdict[str, set[Woken]] = defaultdict(set)
        self._fresh: OrderedDict[str, str] = OrderedDict()
        """job id → its client, for the jobs ``created`` here with no end or change heard."""
        self._heard: OrderedDict[str, None] = OrderedDict()
        """Ids of the jobs whose end or change was heard lately (at most ``FRESH_MAX``)."""
        self._final: OrderedDict[str, tuple[Job | bytes, int]] = OrderedDict()
        self._final_bytes = 0
        self.closed = False

    def __len__(self) -> int:
        return sum(len(f) for f in self._waiting.values())

    def register(self, job_id: str) -> Woken:
        """Register before reading the job, so an end between the read and the wait is heard."""
        future = asyncio.get_running_loop().create_future()
        self._waiting[job_id].add(future)
        return future

    def forget(self, job_id: str, future: Woken) -> None:
        futures = self._waiting.get(job_id)
        if futures is not None:
            futures.discard(future)
            if not futures:
                del self._waiting[job_id]

    def created(self, job: Job) -> None:
        """``job`` was just created by a commit of this process that won."""
        if job.terminal or self.closed or job.id in self._heard:
            return
        self._fresh[job.id] = job.client
        if len(self._fresh) > FRESH_MAX:
            self._fresh.popitem(last=False)

    def fresh(self, job_id: str, client: str) -> bool:
        """Whether ``job_id`` is ``client``'s, created here, and not ended as far as this
        process can know: a wait for it need not read it first."""
        return self._fresh.get(job_id) == client

    def ended(self, message: bytes) -> None:
        """An end or a change heard on the bus: a bare job id (read the job), or an end
        with the job as stored (``storage/end_message.py``), unpacked only if someone here
        waits for it, else kept as it came for a status read that comes later."""
        job_id, packed = end_message.split(message)
        self._heard_of(job_id)
        futures = self._waiting.pop(job_id, ())
        if not packed:
            _wake(futures, None)
            return
        if not futures:
            kept = self._final.get(job_id)
            if kept is None or isinstance(kept[0], bytes):  # a kept job is final already
                self._keep(job_id, packed, len(packed))
            return
        job = end_message.unpack(packed)
        if job is not None:
            self._keep(job_id, job, len(packed))
        _wake(futures, job)

    def _heard_of(self, job_id: str) -> None:
        """``job_id`` ended or changed: it is not fresh, nor will it be."""
        self._fresh.pop(job_id, None)
        self._heard[job_id] = None
        if len(self._heard) > FRESH_MAX:
            self._heard.popitem(last=False)

    def ended_job(self, job: Job, size: int = 0) -> None:
        """``job`` ended by a commit of this process that won: its terminal rev is stored, so
        the waiters may answer with it instead of reading it back. ``size``: its stored
        bytes, what keeping it costs."""
        self._heard_of(job.id)
        self._keep(job.id, job, size)
        _wake(self._waiting.pop(job.id, ()), job)

    def _keep(self, job_id: str, job: Job | bytes, size: int) -> None:
        """Keeps an ended job, or its end message's packed fields (``bytes``: unpacked when
        read, and dropped then unless its end is final)."""
        if isinstance(job, Job) and job.status not in FINAL or size > FINAL_MAX_BYTES:
            return
        self._drop(job_id)
        self._final[job_id] = (job, size)
        self._final_bytes += size
        while len(self._final) > FINAL_MAX_JOBS or self._final_bytes > FINAL_MAX_BYTES:
            _, (_, old) = self._final.popitem(last=False)
            self._final_bytes -= old

    def _drop(self, job_id: str) -> None:
        entry = self._final.pop(job_id, None)
        if entry is not None:
            self._final_bytes -= entry[1]

    def final(self, job_id: str, client: str) -> Job | None:
        """``client``'s job as it ended, if kept and it can never change again."""
        entry = self._final.get(job_id)
        if entry is None:
            return None
        job, size = entry
        if isinstance(job, bytes):  # heard from another process: unpacked once, here
            unpacked = end_message.unpack(job)
            if unpacked is None or unpacked.status not in FINAL:
                self._drop(job_id)
                return None
            job = unpacked
            self._final[job_id] = (job, size)
        if job.client != client:
            return None
        if time.time() >= job.updated_at + self._retention_s:  # Redis has let it go
            return None
        return job

    def forget_jobs(self) -> None:
        """The stored jobs are gone (a dev-mode flush): what this process knows of them is
        no longer true."""
        self._final.clear()
        self._final_bytes = 0
        self._fresh.clear()

    def wake_all(self) -> None:
        """Every parked client re-reads its job: messages may have been lost (a pub/sub
        reconnect). A client whose job has not ended registers and waits again."""
        waiting, self._waiting = self._waiting, defaultdict(set)
        self._fresh.clear()
        for futures in waiting.values():
            _wake(futures, None)

    def close(self) -> None:
        self.closed = True
        self.wake_all()


def _wake(futures: Iterable[Woken], job: Job | None) -> None:
    for future in futures:
        if not future.done():
            future.set_result(job)
