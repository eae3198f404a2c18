"""``Leftovers``: what a sweep took and could not act on, acted on at the process's next sweep.

A sweep takes due members (timers, lease refs) with ``take_due.lua``, which hides them from
every process for a hold: 30 s for a timer, a lease length for a lease, so that two sweepers do
not both act on one. When acting on one fails (Redis restarting answers ``LOADING`` or refuses
connections), the member used to wait out that whole hold, and the members taken after it too:
a parent resumed 30 s after its child ended. Now the process keeps them and tries them again
at its next sweep. A process that dies leaves them to the hold, as before. Acting twice on one
is harmless: each act re-reads its job and writes under a compare-and-set.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

MAX_TRIES = 3
"""Rounds a member that keeps failing is tried in; then it is left to its hold, so that one
that always fails costs a try per hold, not per sweep."""


class Leftovers:
    def __init__(self) -> None:
        self._left: dict[str, int] = {}
        """member → rounds it failed in; in the order to try them."""

    def __len__(self) -> int:
        return len(self._left)

    async def work_off(
        self, take: Callable[[], Awaitable[list[str]]], act: Callable[[str], Awaitable[None]]
    ) -> bool:
        """Act on the members left, then on those ``take`` takes now; True if there were any.

        At the first failure, the members not tried yet are kept to go first next time and the
        one that failed after them, so that a member that keeps failing delays no other."""
        left, self._left = self._left, {}
        try:
            members = [*left, *(m for m in await take() if m not in left)]
        except BaseException:
            self._left = {**left, **self._left}
            raise
        for i, member in enumerate(members):
            try:
                await act(member)
            except BaseException:
                untried = {m: left.get(m, 0) for m in members[i + 1 :]}
                self._left = {**untried, **self._left}
                tries = left.get(member, 0) + 1
                if tries < MAX_TRIES:
                    self._left[member] = tries
                raise
        return bool(members)
