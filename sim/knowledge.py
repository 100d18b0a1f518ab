"""Who holds which package since when: bitset banks, lazy inboxes and the merge pipeline."""

from __future__ import annotations

import numpy as np

from sim.flows import Flow


class Knowledge:
    """Banks of all agents as an (agents x tasks) bool matrix plus the time each entry was merged.

    Arrivals are not events: each agent keeps an inbox of the flows coming to it and catches up
    (`collect`) whenever it must act or be read, taking every item that arrived until then, in
    arrival order. A package is `held` from its arrival (so duplicates are refused and it can be
    forwarded) and `known` once merged: merging runs on the agent's device one package at a time
    in arrival order, beside learning (merging does not delay learning; see engine.py).
    """

    def __init__(self, n_agents: int, n_tasks: int, merge_s: np.ndarray) -> None:
        self.n_agents, self.n_tasks = n_agents, n_tasks
        self.held = np.zeros((n_agents, n_tasks), dtype=bool)
        self.known_at = np.full((n_agents, n_tasks), np.inf)  # merge time of each held package
        self.merge_s = merge_s  # (agents x tasks) seconds to merge, or a per-task row broadcast
        self.merge_free = np.zeros(n_agents)  # when each agent's merge pipeline is next free
        self.inbox: list[list[list]] = [[] for _ in range(n_agents)]  # [flow, next item] entries
        self.alive = np.ones(n_agents, dtype=bool)
        self.holders = np.zeros(n_tasks, dtype=np.int64)  # alive agents holding each task
        self.incomplete = 0  # tasks held by some but not all alive agents
        self.removed: list[tuple[float, int, int, float]] = []  # (time, agent, task, banked at)
        self.merges = 0  # packages merged (for student MACs)

    # -- state changes --------------------------------------------------------------------------
    def bank(self, agent: int, ids: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Hold new packages arriving at `times` (sorted); return their merge-completion times."""
        m = self.merge_s[agent, ids] if self.merge_s.ndim == 2 else self.merge_s[ids]
        total = np.cumsum(m)
        start = np.maximum.accumulate(times - (total - m))
        done = total + np.maximum(start, self.merge_free[agent])
        self.merge_free[agent] = done[-1]
        self.held[agent, ids] = True
        self.known_at[agent, ids] = done
        self.merges += len(ids)
        if self.alive[agent]:
            self._count(ids, +1)
        return done

    def wipe(self, agent: int, now: float, after: float = -np.inf) -> None:
        """Drop an agent's packages merged after `after` (all by default), logging each removal."""
        row = self.held[agent] & (self.known_at[agent] > after)
        ids = np.flatnonzero(row)
        for t in ids:
            self.removed.append((now, agent, int(t), float(self.known_at[agent, t])))
        if self.alive[agent]:
            self._count(ids, -1)
        self.held[agent, ids] = False
        self.known_at[agent, ids] = np.inf
        self.rescan(agent)

    def set_alive(self, agent: int, alive: bool) -> None:
        """Mark an agent dead or alive and recount which tasks are incomplete."""
        self.alive[agent] = alive
        self.holders = self.held[self.alive].sum(axis=0)
        n = int(self.alive.sum())
        self.incomplete = int(((self.holders > 0) & (self.holders < n)).sum())

    def _count(self, ids: np.ndarray, delta: int) -> None:
        """Update holder counts and the number of incomplete tasks for `ids`."""
        n = int(self.alive.sum())
        before = self.holders[ids]
        after = before + delta
        self.holders[ids] = after
        self.incomplete += int(((after > 0) & (after < n)).sum() - ((before > 0) & (before < n)).sum())

    # -- arrivals -------------------------------------------------------------------------------
    def expect(self, flow: Flow) -> None:
        """A flow towards flow.dst has started: add an inbox entry [flow, next item, scan mark]."""
        entry = [flow, 0, 0]
        flow.entry = entry
        self.inbox[flow.dst].append(entry)

    def collect(self, agent: int, now: float):
        """Items arrived at `agent` until `now`: (ids, sources, times) in arrival order, lost removed."""
        parts = []
        inbox = self.inbox[agent]
        finished = False
        for entry in inbox:
            flow, lo = entry[0], entry[1]
            hi = flow.limit
            if lo < hi and flow.arr[lo] <= now:
                times = flow.arr[lo:hi]
                k = int(np.searchsorted(times, now, side="right"))
                ids = flow.ids[lo:lo + k]
                times = times[:k]
                if flow.lost is not None:
                    ok = ~flow.lost[lo:lo + k]
                    ids, times = ids[ok], times[ok]
                parts.append((ids, np.full(len(ids), flow.src), times))
                entry[1] = lo = lo + k
            if lo >= hi and flow.ended:
                finished = True
        if finished:
            self.inbox[agent] = [e for e in inbox if e[1] < e[0].limit or not e[0].ended]
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        ids, srcs, times = (np.concatenate(x) for x in zip(*parts))
        order = np.argsort(times, kind="stable")
        return ids[order], srcs[order], times[order]

    def next_arrival(self, agent: int, tokens_only: bool) -> float:
        """Earliest time a new package (or any digest token) will arrive at `agent`."""
        best = np.inf
        held = self.held[agent]
        for entry in self.inbox[agent]:
            flow, lo = entry[0], entry[1]
            hi = flow.limit
            if lo >= hi:
                continue
            if flow.tokens is not None:
                i = int(np.searchsorted(flow.tokens, lo))
                if i < len(flow.tokens) and flow.tokens[i] < hi:
                    best = min(best, float(flow.arr[flow.tokens[i]]))
            if tokens_only:
                continue
            scan = max(lo, entry[2])  # items before `scan` are held already, and stay held
            while scan < hi and flow.arr[scan] < best:
                window = flow.ids[scan:scan + 32]
                want = ~held[np.maximum(window, 0)] & (window >= 0)
                if flow.lost is not None:
                    want &= ~flow.lost[scan:scan + len(window)]
                i = int(np.argmax(want))
                if want[i]:
                    scan += i
                    best = min(best, float(flow.arr[scan]))
                    break
                scan += len(window)
            entry[2] = scan
        return best

    def rescan(self, agent: int) -> None:
        """Packages were dropped from an agent's bank: forget what the scans learned."""
        for entry in self.inbox[agent]:
            entry[2] = entry[1]

    def drop_inbox(self, agent: int) -> None:
        """Forget everything still on its way to a dead agent (its flows were cut)."""
        self.inbox[agent] = []
