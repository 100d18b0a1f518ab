"""Max-min fair sharing (progressive filling), the bandwidth model of SimGrid's flow level."""

from __future__ import annotations

from sim.engine.flows import Flow


def progressive_filling(flows: list[Flow], capacity: list[float]) -> dict[int, float]:
    """Max-min fair rates by id(flow): raise all rates together, freezing the flows of each resource
    as it saturates (`capacity`: bytes/s of each resource a flow lists in `resources`)."""
    cap = {r: capacity[r] for f in flows for r in f.resources}
    count = {r: 0 for r in cap}
    for f in flows:
        for r in f.resources:
            count[r] += 1
    rates, free = {}, set(id(f) for f in flows)
    while free:
        r_min = min((r for r in cap if count[r] > 0), key=lambda r: cap[r] / count[r])
        share = cap[r_min] / count[r_min]
        for f in flows:
            if id(f) in free and r_min in f.resources:
                rates[id(f)] = share
                free.discard(id(f))
                for r in f.resources:
                    cap[r] -= share
                    count[r] -= 1
    return rates
