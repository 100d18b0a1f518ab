"""What waits on or crosses the links of a Network: the questions the engine and the protocols ask
(is anything still on its way, what is being sent on a direction)."""

from __future__ import annotations


class Traffic:
    """The part of sim.engine.network.Network that answers what is queued, waiting or flowing (a
    base class: it reads the network's queues, transfers and flows)."""

    def busy(self) -> bool:
        """True while any flow is active or pending, or items are queued on a direction that is up."""
        if self.active or self.pending or self.grants:
            return True
        return any(q and not self.down[d] for d, q in enumerate(self.queue))

    def packages_queued(self) -> bool:
        """True while a package (not a digest) is queued on a direction that is up, waits to flow, or
        flows in an equal split (its receiver hears of it only when it is through)."""
        if any(i >= 0 for ps in self.pending.values() for p in ps for i in p.ids):
            return True
        if any(f.tag is not None and f.ids_l[0] >= 0 and (f.lost is None or not f.lost[0]) for fs in self.active.values() for f in fs):
            return True
        down = self.down
        for d, q in enumerate(self.queue):
            if q and not down[d] and (q[0] >= 0 or q[-1] >= 0 or any(i >= 0 for i in q)):
                return True
        return False

    def sending(self, d: int) -> list[int]:
        """Items of the per_package transfers open on direction d: handed over, not through yet
        (their latency runs, they wait for a grant, or their bytes flow). Empty under per_link, whose
        stream counts an item as sent once its flow starts."""
        if not self.per_package:
            return []
        items = [i for p in self.pending.get(d, ()) for i in p.ids]
        for f in self.active.get(d, ()):
            items += f.ids_l
        return items
