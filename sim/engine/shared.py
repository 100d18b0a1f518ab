"""Equal split on one link direction: the max-min shares of flows that cross nothing else, in O(log n)
per flow start and end instead of a re-solve that touches every flow."""

from __future__ import annotations

import heapq

from sim.engine.flows import Flow


class EqualSplit:
    """The flows of one link direction that cross no other resource (per_package streams, no NIC
    limit on either end). Max-min there is an equal split, capacity / n, so every flow gains bytes
    at the same pace: a virtual clock `v` counts the bytes each flow has sent since the direction
    was last idle, a flow that joins at v0 with s bytes is through at v = v0 + s (its tag), and
    flows end in tag order (ties: the order they joined) whatever joins or leaves meanwhile.
    Only the next end needs an event; nothing per flow changes when n does (processor sharing).

    Against a re-solve on every change (`Network._reshare`, the reference) the end times agree to
    a few ulps: sent bytes are v - v0 here, a sum of per-flow increments there."""

    __slots__ = ("capacity", "v", "t", "rate", "n", "heap", "seq", "version")

    def __init__(self, capacity: float) -> None:
        self.capacity = capacity
        self.v = 0.0  # bytes each flow sent since the direction was last idle
        self.t = 0.0  # when v was last brought up to date
        self.rate = 0.0  # bytes/s of each flow now: capacity / n
        self.n = 0  # flows sharing now
        self.heap: list[tuple[float, int, Flow]] = []  # (tag, join order, flow); cut flows linger
        self.seq = 0
        self.version = 0  # bumped at every change: the scheduled end of an older version is stale

    def advance(self, now: float) -> None:
        """Bring the virtual clock up to `now` at the current share."""
        if now > self.t:
            self.v += self.rate * (now - self.t)
            self.t = now

    def join(self, flow: Flow, now: float) -> None:
        """`flow` starts sharing now."""
        self.advance(now)
        self.seq += 1
        flow.tag = self.v + flow.total
        heapq.heappush(self.heap, (flow.tag, self.seq, flow))
        self.n += 1
        self.rate = self.capacity / self.n

    def leave(self, flow: Flow, now: float) -> None:
        """`flow` stops sharing now (its end, or a cut: its heap entry is dropped when it surfaces)."""
        self.advance(now)
        self.n -= 1
        if self.n == 0:  # idle: start the clock afresh, so it never grows large
            self.v, self.rate, self.heap = 0.0, 0.0, []
        else:
            self.rate = self.capacity / self.n

    def sent(self, flow: Flow) -> float:
        """Bytes `flow` has sent by the last `advance`."""
        return min(flow.total, max(0.0, self.v - (flow.tag - flow.total)))

    def next_end(self) -> tuple[Flow, float] | None:
        """The flow that ends first and the seconds until it does (None when no flow shares)."""
        heap = self.heap
        while heap and heap[0][2].ended:
            heapq.heappop(heap)
        if not heap:
            return None
        tag, _, flow = heap[0]
        left = tag - self.v
        return flow, (left / self.rate if left > 0 else 0.0)

    def pop(self) -> Flow:
        """Take the flow that ends now off the heap."""
        return heapq.heappop(self.heap)[2]
