"""Exclusive resources (FIFO sharing, serial receive): who holds each, who waits, in O(log n) per event."""

from __future__ import annotations

import heapq
from collections import deque
from typing import Callable, Hashable


class Grants:
    """Requests for sets of exclusive resources, granted in FIFO order of asking: a request starts
    as soon as all its exclusive resources are free, and when a resource frees, the earliest
    requests waiting on it come first (a later request may pass an earlier one that is still
    blocked elsewhere). The same order as rescanning every waiting request after each release,
    but each release only looks at the queues of the resources it freed."""

    def __init__(self, exclusive: list[bool], start: Callable[[Hashable], None]) -> None:
        self.exclusive = exclusive
        self.start = start  # grants a request; it takes its resources by calling `hold`
        self.holder: dict[int, object] = {}  # exclusive resource -> the flow or request holding it
        self.queues: dict[int, deque] = {}  # exclusive resource -> (seq, request, resources) waiting
        self.live: dict[Hashable, int] = {}  # waiting request -> its seq (absent: granted or cancelled)
        self.freed: list[int] = []  # released resources whose waiters have not been looked at yet
        self.seq = 0
        self.granting = False

    def __bool__(self) -> bool:
        """True while some request waits."""
        return bool(self.live)

    def free(self, res: tuple[int, ...]) -> bool:
        """All the exclusive resources among `res` are free."""
        holder, exclusive = self.holder, self.exclusive
        return all(r not in holder for r in res if exclusive[r])

    def hold(self, r: int, owner: object) -> None:
        """`owner` takes exclusive resource r."""
        self.holder[r] = owner

    def release(self, r: int, owner: object) -> None:
        """`owner` lets go of r (if it held it); its waiters are looked at by the next `grant`."""
        if self.holder.get(r) is owner:
            del self.holder[r]
            if self.queues.get(r):
                self.freed.append(r)

    def ask(self, request: Hashable, res: tuple[int, ...]) -> None:
        """Start `request` now if its exclusive resources are free (after earlier waiters had their
        turn at what was released), else queue it on each of them."""
        self.grant()
        if not self.granting and self.free(res):
            self.start(request)
            return
        self.seq += 1
        self.live[request] = self.seq
        for r in res:
            if self.exclusive[r]:
                self.queues.setdefault(r, deque()).append((self.seq, request, res))
                if self.granting and r not in self.holder:
                    self.freed.append(r)  # the running pass looks at it

    def cancel(self, request: Hashable) -> None:
        """Forget a waiting request (its entries are dropped lazily)."""
        self.live.pop(request, None)

    def grant(self) -> None:
        """Start the waiters of every freed resource that can start, earliest request first."""
        if self.granting or not self.freed:
            return
        self.granting = True
        heap: list[tuple[int, int, int]] = []  # (seq, resource, index in its queue)
        seen: set[int] = set()
        try:
            while self.freed or heap:
                for r in self.freed:
                    if r not in seen and r not in self.holder and self.queues.get(r):
                        seen.add(r)
                        self._push(heap, r, 0)
                self.freed = []
                if not heap:
                    break
                _, r, i = heapq.heappop(heap)
                seen.discard(r)
                seq, request, res = self.queues[r][i]
                if self.live.get(request) == seq and self.free(res):
                    del self.live[request]
                    self.start(request)
                if r not in self.holder and r not in seen:
                    seen.add(r)
                    self._push(heap, r, i + 1)
        finally:
            self.granting = False

    def _push(self, heap: list, r: int, i: int) -> None:
        """Push the first live entry of r's queue at index i or later (dropping dead heads)."""
        q = self.queues[r]
        while i == 0 and q and self.live.get(q[0][1]) != q[0][0]:
            q.popleft()
        while i < len(q) and self.live.get(q[i][1]) != q[i][0]:
            i += 1
        if i < len(q):
            heapq.heappush(heap, (q[i][0], r, i))
        elif not q:
            del self.queues[r]
