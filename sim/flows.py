"""One flow: a batch of items crossing one link direction, with exact per-item arrival times;
and the event loop that schedules flow ends (a counting SimPy environment, bare callbacks)."""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Callable

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes."""

    def __init__(self) -> None:
        super().__init__()
        self.events_processed = 0

    def step(self) -> None:
        """Process one event and count it."""
        self.events_processed += 1
        super().step()

    def run_all(self) -> None:
        """`run()` until no event is left, with SimPy's `step` inlined: the same pops, callbacks
        and failure check, without two Python calls per event (runs have ~10^6 events)."""
        queue = self._queue
        while queue:
            self._now, _, _, event = heappop(queue)
            self.events_processed += 1
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):  # a process crashed: re-raise
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
        self.events_processed += 1  # `run` counted its last call of `step`, the one that found no event


class Call:
    """A bare scheduled callback: all that SimPy's `step` reads of an event (callbacks, _ok)."""

    __slots__ = ("callbacks", "_ok")

    def __init__(self, fn: Callable) -> None:
        self.callbacks = [fn]
        self._ok = True


# Ranks of simultaneous events. SimPy pops the heap entry (time, priority, scheduling order), so
# events of one instant would otherwise run in the order they happened to be scheduled. Flow ends
# come first (URGENT), then SimPy's NORMAL events (failures, resends), then the engine's own, by
# kind and agent: wake-ups for what lands (WAKE), learning done (LEARNED), gossip timers (TIMER).
# The compiled loops order their events by the same ranks (docs/architecture.md).
WAKE, LEARNED, TIMER = range(3)


def rank(kind: int, agent: int, n_agents: int) -> int:
    """The priority of an engine event of `kind` for `agent` (after URGENT and NORMAL)."""
    return NORMAL + 1 + kind * n_agents + agent


class Delay(simpy.events.Event):
    """`env.timeout(delay)` at priority `priority`: a process yields it (and is interrupted while
    waiting on it) as on a Timeout."""

    def __init__(self, env: simpy.Environment, delay: float, priority: int) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, priority, delay)


def call_later(env: simpy.Environment, delay: float, fn: Callable, priority: int = NORMAL) -> Call:
    """Run fn(event) `delay` (>= 0) seconds from now. The heap entry (time, priority, next event
    id) is the one a Timeout scheduled at that priority would get, so the order of events and
    their count stay the same; it skips building a full Timeout (flow ends and wake-ups schedule
    hundreds of thousands of these per run)."""
    return call_at(env, env._now + delay, fn, priority)


def call_at(env: simpy.Environment, at: float, fn: Callable, priority: int = NORMAL) -> Call:
    """Run fn(event) at time `at` (>= now) exactly: `call_later(at - now)` can land one ulp off.
    URGENT runs before every NORMAL event of the same instant (flow ends use it, see Network)."""
    event = Call(fn)
    heappush(env._queue, (at, priority, next(env._eid), event))
    return event


class Flow:
    """Items (package ids, or negative digest tokens) sent back to back over one link direction.

    Bytes leave the sender at `rate` (which may change when other flows start or end); item i has
    left once `cum[i]` bytes have, and arrives `latency` seconds later (a pipe: the link is free for
    the next flow as soon as the last byte has left). `breaks` holds (time, bytes sent) at every
    rate change so that arrival times stay exact under max-min re-sharing.

    `ids_l` and `arr_l` mirror `ids` and `arr` as Python lists: most flows carry one to three
    items, and scalar reads of a list are several times cheaper than of a numpy array.
    """

    __slots__ = (
        "direction", "src", "dst", "ids", "cum", "lost", "latency", "start", "rate",
        "t_last", "sent", "bt", "bb", "end_event", "version", "resources", "limit", "ended", "arr", "tokens", "entry", "total",
        "ids_l", "arr_l", "cum_l",
    )

    def __init__(self, direction: int, src: int, dst: int, ids: np.ndarray, cum: np.ndarray,
                 cum_l: list[float], latency: float, start: float, resources: tuple[int, ...]) -> None:
        """`cum` (and its list mirror `cum_l`) holds the cumulative bytes after each item; the
        network builds both, in Python for short flows (see Network.open_flow)."""
        self.direction = direction
        self.src = src
        self.dst = dst
        self.ids = ids
        self.ids_l = ids.tolist()
        self.cum = cum
        self.cum_l = cum_l
        self.total = self.cum_l[-1] if self.cum_l else 0.0  # bytes of the whole flow
        self.lost: np.ndarray | None = None  # True where the item is lost on the way
        self.latency = latency
        self.start = start
        self.rate = 0.0
        self.t_last = start  # time of the last progress update
        self.sent = 0.0  # bytes sent by t_last
        self.bt = [start]  # breakpoints: times ...
        self.bb = [0.0]  # ... and bytes sent at those times
        self.end_event = None
        self.version = 0
        self.resources = resources
        self.limit = len(ids)  # items [0, limit) will arrive; a cut lowers it
        self.ended = False
        self.arr: np.ndarray | None = None  # cached arrival times of all items at the current rate
        self.arr_l: list[float] = []  # the same as a list
        self.tokens: list[int] | None = None  # indices of digest tokens (negative ids), if any
        self.entry = None  # the receiver's inbox entry, so rate changes can refresh it

    def advance(self, now: float) -> None:
        """Account bytes sent since the last update at the current rate."""
        if now > self.t_last:
            self.sent = min(self.total, self.sent + self.rate * (now - self.t_last))
            self.t_last = now

    def set_rate(self, now: float, rate: float) -> None:
        """Change the rate from `now` on, keeping a breakpoint so past arrival times stay exact."""
        self.advance(now)
        if rate != self.rate:
            if self.bt[-1] != now:
                self.bt.append(now)
                self.bb.append(self.sent)
            self.rate = rate
            if len(self.bt) == 1 and len(self.cum_l) <= 32:  # few items: the same sums in Python
                start, latency = self.start, self.latency
                self.arr_l = [start + c / rate + latency for c in self.cum_l]
                self.arr = np.array(self.arr_l)
            else:
                self.arr = self.departures(0, len(self.cum)) + self.latency
                self.arr_l = self.arr.tolist()

    def remaining_time(self) -> float:
        """Seconds until the last byte leaves at the current rate."""
        left = self.total - self.sent
        return 0.0 if left <= 0 else left / self.rate

    def departures(self, lo: int, hi: int) -> np.ndarray:
        """Times at which items lo..hi-1 have fully left the sender."""
        cum = self.cum[lo:hi]
        if len(self.bt) == 1:  # constant rate since the start: the common case
            return self.start + cum / self.rate
        out = np.interp(cum, self.bb, self.bt)
        beyond = cum > self.bb[-1]
        if beyond.any():
            out[beyond] = self.bt[-1] + (cum[beyond] - self.bb[-1]) / self.rate
        return out

    def arrivals(self, lo: int, hi: int) -> np.ndarray:
        """Times at which items lo..hi-1 reach the receiver."""
        return self.departures(lo, hi) + self.latency
