"""One flow: a batch of items crossing one link direction, with exact per-item arrival times; a
transfer not flowing yet; the cumulative bytes of a batch."""

from __future__ import annotations

from itertools import accumulate

import numpy as np


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
        "ids_l", "arr_l", "cum_l", "opened", "tag",
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
        self.start = start  # when its bytes start to flow
        self.opened = start  # when the sender handed it over (earlier for a CM02 transfer: its latency)
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
        self.tag: float | None = None  # its end on the virtual clock of an EqualSplit, when it shares one

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


class Pending:
    """A CM02 transfer that has opened but whose bytes do not flow yet (its latency runs, or it
    waits for an exclusive resource)."""

    __slots__ = ("direction", "ids", "opened", "resources", "cancelled")

    def __init__(self, direction: int, ids: list[int], opened: float, resources: tuple[int, ...]) -> None:
        self.direction, self.ids, self.opened, self.resources = direction, ids, opened, resources
        self.cancelled = False


def cum_short(ids: list[int], sizes: list[float], digests: dict[int, float]) -> tuple[np.ndarray, list[float], list[int]]:
    """Cumulative bytes and digest-token indices of a short flow, in plain Python: most flows
    carry one to three items, where numpy's per-call overhead dominates. The sums are the
    same sequential float64 additions as numpy's cumsum, so arrival times are unchanged."""
    if digests:  # digests travel: look their sizes up
        cum_l = list(accumulate([digests[i] if i < 0 else sizes[i] for i in ids]))
        tokens = [k for k, i in enumerate(ids) if i < 0]
    else:
        cum_l, tokens = list(accumulate([sizes[i] for i in ids])), []
    return np.array(cum_l, dtype=np.float64), cum_l, tokens


def cum_long(ids: np.ndarray, sizes_of: np.ndarray, digests: dict[int, float]) -> tuple[np.ndarray, list[float], list[int]]:
    """`cum_short` for a long flow, with numpy."""
    tokens = []
    if digests:
        sizes = sizes_of[np.maximum(ids, 0)]
        tokens = np.flatnonzero(ids < 0).tolist()
        if tokens:
            sizes[tokens] = [digests[int(ids[k])] for k in tokens]
    else:
        sizes = sizes_of[ids]
    cum = sizes.astype(np.float64, copy=False).cumsum()
    return cum, cum.tolist(), tokens
