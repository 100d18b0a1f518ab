"""Outages of link directions: what a cut does to the flows, transfers and queues of a Network."""

from __future__ import annotations

import numpy as np

from sim.engine.flows import Flow
from sim.errors import SimError


class Outages:
    """The part of sim.engine.network.Network that takes directions down and up (a base class: it
    works on the network's queues, flows, transfers and listener)."""

    def set_down(self, d: int) -> None:
        """One more reason for direction d to be down; cut it when it goes down."""
        self.down[d] += 1
        if self.down[d] == 1:
            if self.state[d] == 1:
                self.grants.cancel(d)
                self.state[d] = 0
            self.cut(d)
            self.listener.direction_down(d)

    def fail_tail(self, flow: Flow, keep: int) -> None:
        """A flow already sent but still propagating is cut: items from `keep` on never arrive."""
        if keep >= flow.limit:
            return
        sizes = np.diff(flow.cum, prepend=0.0)[keep:flow.limit]
        ok = np.ones(len(sizes), dtype=bool) if flow.lost is None else ~flow.lost[keep:flow.limit]
        moved = float(sizes[ok].sum())
        self.bytes_delivered -= moved
        self.bytes_lost += moved
        self.dir_delivered[flow.direction] -= moved
        failed = [int(i) for i in flow.ids[keep:flow.limit][ok] if i >= 0]
        flow.limit = keep
        self.queue[flow.direction][:0] = failed

    def set_up(self, d: int) -> None:
        """One reason less for direction d to be down; resume its queue when none is left."""
        self.down[d] -= 1
        if self.down[d] < 0:
            raise SimError(f"direction {d} brought up more often than down")
        if self.down[d] == 0 and self.state[d] == 0 and self.queue[d]:
            self.queued_at[d] = self.env.now  # the connection starts cold again
            self._request(d)

    def cut(self, d: int) -> None:
        """Cut direction d now: active flows fail from the first item not yet arrived, transfers
        whose bytes do not flow yet fail whole (back to the queue, after what the active flows fail)."""
        for p in self.pending.pop(d, ()):
            p.cancelled = True
            self.grants.cancel(p)
            self.queue[d][:0] = [i for i in p.ids if i >= 0]  # digests are not retried
        if not self.active.get(d) and self.state[d] == 2:
            self.state[d] = 0
        for flow in list(self.active.get(d, ())):
            if flow.tag is not None:  # in an equal split: through only if its last byte is
                split = self.split[d]
                split.advance(self.env.now)
                flow.sent = split.sent(flow)
                if flow.sent < flow.total:
                    flow.limit = 0
                else:
                    self._arrives_now(flow)
                self._close(flow, cut=True)
                continue
            flow.advance(self.env.now)
            arrived = flow.arr[:flow.limit] <= self.env.now
            flow.limit = int(arrived.sum())  # arrivals are increasing in index
            self._close(flow, cut=True)
