"""Whose time is a late idle poll's lateness: the benchmark client's, or the orchestrator's.

Each poll is timed on the client at three moments (``perf_counter``): when the benchmark began
the request, when its headers left the client (aiohttp's ``on_request_headers_sent``) and when
its answer was read. The orchestrator's side is its ``parked_polls``, sampled by ``Watch``
(``idle_watch.py``): the time the n-th poll was parked is the first sample that counts n, and
the n-th was let go when a sample counts n fewer than the most.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def pct(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def spread(values: list[float]) -> str:
    """``p50 / p99 / max`` of ``values``."""
    ordered = sorted(values)
    return f"{pct(ordered, 0.5):.2f} / {pct(ordered, 0.99):.2f} / {ordered[-1]:.2f}"


@dataclass
class PollTimes:
    """The client's clock of every poll of one burst."""

    k: int
    wait_s: float
    began: float = 0.0
    """When the burst began: the first poll's request."""
    started: dict[int, float] = field(default_factory=dict)
    sent: dict[int, float] = field(default_factory=dict)
    """poll → when its headers left the client."""
    answered: dict[int, float] = field(default_factory=dict)
    queued: dict[int, float] = field(default_factory=dict)
    """poll → seconds from the orchestrator reading its request to its handler (its answer's
    ``Server-Timing``)."""
    polled: dict[int, float] = field(default_factory=dict)
    """poll → seconds from the orchestrator reading its request to answering it."""

    def server_timing(self, i: int, header: str) -> None:
        """Take ``queue`` and ``poll`` from a ``Server-Timing`` header (ms)."""
        for part in header.split(","):
            name, _, dur = part.strip().partition(";dur=")
            if dur and name in ("queue", "poll"):
                (self.queued if name == "queue" else self.polled)[i] = float(dur) / 1000

    def past_timeout(self, since: dict[int, float]) -> list[float]:
        """Seconds past its timeout each poll's answer came, counted from ``since``."""
        return [self.answered[i] - t - self.wait_s for i, t in since.items() if i in self.answered]

    def after_burst(self, moments: dict[int, float]) -> list[float]:
        return [t - self.began for t in moments.values()]


def server_times(
    samples: list[tuple[float, int]], k: int, began: float, rising: bool
) -> list[float]:
    """Seconds after ``began`` by which the n-th of ``k`` polls was parked (``rising``) or let
    go, for each n reached, from ``(time, parked_polls)`` samples. Polls are let go only once
    every one was seen parked (else parking and letting go overlap, and the count says
    neither)."""
    times: list[float] = []
    peak = 0
    for at, parked in samples:
        peak = max(peak, parked)
        let_go = peak - parked if peak >= k else 0
        count = parked if rising else let_go
        while len(times) < min(count, k):
            times.append(at - began)
    return times


def report(
    times: PollTimes,
    samples: list[tuple[float, int]],
    late_after: float,
    sample_s: float,
    *,
    timeline: bool = True,
) -> None:
    """The lines after ``new connections``: lateness from the request sent, and (``timeline``)
    when each side was done with the polls."""
    from_sent = times.past_timeout(times.sent)
    if from_sent:
        late = sum(x > late_after for x in from_sent)
        print(
            f"  from the request sent    {len(from_sent) - late:8d} on time; late {late}"
            f"; past the timeout s p50/p99/max {spread(from_sent)}"
        )
    if times.polled:
        inside = [took - times.wait_s for took in times.polled.values()]
        late = sum(x > late_after for x in inside)
        print(
            f"  in the orchestrator      {len(inside) - late:8d} on time; late {late}; "
            f"past the timeout s p50/p99/max {spread(inside)} (request read → answered)"
        )
        print(f"    of which read → handler  s p50/p99/max {spread(list(times.queued.values()))}")
        outside = [
            times.answered[i] - times.sent[i] - took
            for i, took in times.polled.items()
            if i in times.sent and i in times.answered
        ]
        if outside:
            print(
                f"  outside it               s p50/p99/max {spread(outside)} (sent → read, "
                "answered → read by the client: kernel queues, both event loops)"
            )
    if not timeline:
        return
    print(f"  s after the burst began, p50 / p99 / all ({times.k} polls):")
    rows = (
        ("requests sent (client)", times.after_burst(times.sent)),
        ("parked (orchestrator)", server_times(samples, times.k, times.began, rising=True)),
        ("let go (orchestrator)", server_times(samples, times.k, times.began, rising=False)),
        ("answers read (client)", times.after_burst(times.answered)),
    )
    for name, moments in rows:
        if len(moments) < times.k:  # a sampled count that never got there, or lost polls
            print(f"    {name:<24} {len(moments)} of {times.k} seen")
        else:
            print(f"    {name:<24} {spread(moments)}")
    print(f"    (the orchestrator's counts sampled every 0.1 s; one took at most {sample_s:.2f} s)")
