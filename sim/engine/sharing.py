"""Max-min fair sharing (progressive filling), the bandwidth model of SimGrid's flow level."""

from __future__ import annotations

import heapq

from sim.engine.flows import Flow


def progressive_filling(flows: list[Flow], capacity: list[float]) -> dict[int, float]:
    """Max-min fair rates by id(flow): raise all rates together, freezing the flows of each resource
    as it saturates (`capacity`: bytes/s of each resource a flow lists in `resources`).

    The resource that saturates next comes off a heap (ties: the resource met first), so a
    component of F flows over R resources costs O((F + R) log R), not O(F R) per frozen resource;
    the arithmetic (each resource's share, the subtractions in flow order) is the plain scan's."""
    cap: dict[int, float] = {}
    users: dict[int, list[Flow]] = {}
    for f in flows:
        for r in f.resources:
            if r in users:
                users[r].append(f)
            else:
                cap[r] = capacity[r]
                users[r] = [f]
    order = {r: k for k, r in enumerate(cap)}
    count = {r: len(fs) for r, fs in users.items()}
    heap = [(cap[r] / count[r], order[r], r) for r in cap]
    heapq.heapify(heap)
    rates: dict[int, float] = {}
    while heap:
        share, _, r_min = heapq.heappop(heap)
        if count[r_min] == 0 or share != cap[r_min] / count[r_min]:
            continue  # stale: this resource changed since
        touched = set()
        for f in users[r_min]:
            if id(f) in rates:
                continue
            rates[id(f)] = share
            for r in f.resources:
                cap[r] -= share
                count[r] -= 1
                touched.add(r)
        for r in touched:
            if count[r] > 0:
                heapq.heappush(heap, (cap[r] / count[r], order[r], r))
    return rates
