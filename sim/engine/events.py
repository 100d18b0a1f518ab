"""SimPy event primitives of the engine: a counting environment with an inlined run loop, bare
scheduled callbacks, and timeouts at a chosen priority (so that simultaneous events run by rank)."""

from __future__ import annotations

import gc
from heapq import heappop, heappush
from typing import Callable

import simpy
from simpy.events import NORMAL

from sim import ranks

# sim.ranks spells out SimPy's two priorities so that the compiled loops need not import SimPy.
assert (simpy.events.URGENT, simpy.events.NORMAL) == (ranks.URGENT, ranks.NORMAL)


# Young objects are still collected (every 5 * 10^4 net allocations, not 700); a full collection
# waits for 20 * 1000 young ones, i.e. rarely within a run (see CountingEnvironment.run_all).
GC_THRESHOLD = (50_000, 20, 1000)


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
        and failure check, without two Python calls per event (runs have ~10^6 events).

        The cyclic garbage collector runs less often meanwhile (GC_THRESHOLD, restored after):
        the engine's flows and events are freed by reference counting (it breaks its own cycles,
        e.g. flow <-> inbox entry), and each collection walks the live ones, 6 * 10^5 objects with
        6 * 10^4 flows at once in per_package push_pull at N = 500, where the default thresholds
        spent 40 % of the CPU collecting and nothing was garbage (same peak memory either way)."""
        threshold = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLD)
        try:
            self._run_all()
        finally:
            gc.set_threshold(*threshold)

    def _run_all(self) -> None:
        """The loop of `run_all`."""
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
