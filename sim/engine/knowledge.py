"""Who holds which package since when: bitset banks, lazy inboxes and the merge pipeline."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

import networkx as nx
import numpy as np

from sim.engine.flows import Flow
from sim.engine.merging import FullInversions, MergeBatches, ScatterStates
from sim.workload import Workload


class Knowledge:
    """Banks of all agents as an (agents x tasks) bool matrix plus the time each entry was merged.

    Arrivals are not events: each agent keeps an inbox of the flows coming to it and catches up
    (`collect`) whenever it must act or be read, taking every item that arrived until then, in
    arrival order. A package is `held` from its arrival (so duplicates are refused and it can be
    forwarded) and `known` once merged: merging runs on the agent's device one package at a time
    in arrival order, beside learning (merging does not delay learning; see sim/engine/core.py),
    or in merge batches where merging has per-batch work (`batch_merges`, sim.engine.merging).
    """

    def __init__(self, n_agents: int, n_tasks: int, merge_s: np.ndarray, graph: nx.Graph | None = None) -> None:
        self.n_agents, self.n_tasks = n_agents, n_tasks
        self.graph = graph  # for the parts the living fall into once agents die (see `settled`)
        self.held = np.zeros((n_agents, n_tasks), dtype=bool)
        self.known_at = np.full((n_agents, n_tasks), np.inf)  # merge time of each held package
        self.merge_s = merge_s  # (agents x tasks) seconds to merge, or a per-task row broadcast
        self.no_merge = not merge_s.any()
        self.merge_free = np.zeros(n_agents)  # when each agent's merge pipeline is next free
        self.inbox: list[list[list]] = [[] for _ in range(n_agents)]  # [flow, next item] entries
        self.alive = np.ones(n_agents, dtype=bool)
        self.live = [True] * n_agents  # `alive` as a list, for cheap scalar reads
        self.holders = np.zeros(n_tasks, dtype=np.int64)  # alive agents holding each task
        self.holders_total = 0  # sum of holders; lets `complete` skip work when nothing changed
        self._complete: tuple[int, bool] = (-1, False)  # (holders_total, answer) of the last check
        # While the living form several parts (a disconnected graph, or dead agents splitting it):
        # each alive agent's part, the part sizes and the holders of each task in each part.
        self.part = np.zeros(n_agents, dtype=np.int64)
        self.part_sizes: np.ndarray | None = None
        self.part_holders: np.ndarray | None = None
        self._settled: tuple[int, bool] = (-1, False)
        self._find_parts()
        self.due = [np.inf] * n_agents  # lower bound on each agent's next arrival
        self.removed: list[tuple[float, int, int, float]] = []  # (time, agent, task, banked at)
        self.merges = 0  # packages merged (for student MACs)
        self.batches: MergeBatches | None = None  # merge batches, when merging has per-batch work

    @classmethod
    def of_workload(cls, workload: Workload, rates: np.ndarray, graph: nx.Graph | None = None) -> "Knowledge":
        """Knowledge for a run of `workload` on agents of `rates` MACs/s, merging in batches where
        some package's merge has per-batch work (Workload.batched)."""
        merge_s = workload.column("student_macs")[None, :] / rates[:, None]
        know = cls(len(rates), workload.num_tasks, merge_s if merge_s.any() else np.zeros(workload.num_tasks), graph)
        if workload.scatter is not None:
            know.batch_merges(workload.column("student_macs"), rates,
                              ScatterStates(len(rates), workload.scatter, workload.column("exemplars"),
                                            workload.column("classes")))
        elif workload.batched:
            know.batch_merges(workload.column("student_macs"), rates,
                              FullInversions(len(rates), workload.column("batch_macs"), workload.column("hold_macs")))
        return know

    def batch_merges(self, student: np.ndarray, rates: np.ndarray, renewals: FullInversions | ScatterStates) -> None:
        """Merge in batches (sim.engine.merging) with these per-package MACs and per-batch parts, on
        agents of `rates` MACs/s."""
        self.batches = MergeBatches(student, renewals, rates, self.known_at, self.merge_free)
        self.no_merge = False

    # -- state changes --------------------------------------------------------------------------
    def bank(self, agent: int, ids: list[int], times: list[float]) -> float | None:
        """Hold new packages (distinct, not held yet) arriving at `times` (sorted). Returns the
        student MACs they cost when merging in batches, else None (each costs its student_macs)."""
        if self.batches is not None:
            macs = sum(self.batches.take(agent, task, t) for task, t in zip(ids, times))
            self._hold(agent, ids)
            return macs
        if len(ids) == 1:  # the common case, without numpy's per-call overhead
            self._bank_one(agent, ids[0], times[0])
            return None
        if self.no_merge:  # merging is free: known on arrival
            done = times
        else:
            done = self._merge_times(agent, ids, times)
        self.known_at[agent, ids] = done
        self._hold(agent, ids)
        return None

    def _hold(self, agent: int, ids: list[int]) -> None:
        """Mark `ids` held by `agent`, count them as merges and, if it is alive, as holders."""
        self.held[agent, ids] = True
        self.merges += len(ids)
        if self.live[agent]:
            self.holders[ids] += 1
            self.holders_total += len(ids)
            if self.part_holders is not None:
                self.part_holders[self.part[agent], ids] += 1

    def _bank_one(self, agent: int, task: int, t: float) -> None:
        """`bank` for one package: the same arithmetic on scalars."""
        if self.no_merge:
            done = t
        else:
            m = float(self.merge_s[agent, task] if self.merge_s.ndim == 2 else self.merge_s[task])
            done = m + max(t, float(self.merge_free[agent]))  # see _merge_times with one item
            self.merge_free[agent] = done
        self.held[agent, task] = True
        self.known_at[agent, task] = done
        self.merges += 1
        if self.live[agent]:
            self.holders[task] += 1
            self.holders_total += 1
            if self.part_holders is not None:
                self.part_holders[self.part[agent], task] += 1

    def _merge_times(self, agent: int, ids: list[int], times: list[float]) -> np.ndarray:
        """Completion times of merging `ids` one by one in arrival order after the pipeline frees:
        done_i = m_i + max(t_i, done_{i-1}), the same sums `_bank_one` (and the compiled loop) make
        for one package, so that a batch rounds exactly like packages merged one at a time."""
        m = self.merge_s[agent, ids] if self.merge_s.ndim == 2 else self.merge_s[ids]
        free = float(self.merge_free[agent])
        done = []
        for mi, ti in zip(m.tolist(), times):
            free = mi + max(ti, free)
            done.append(free)
        self.merge_free[agent] = free
        return np.array(done)

    def wipe(self, agent: int, now: float, after: float = -np.inf) -> None:
        """Drop an agent's packages merged after `after` (all by default), logging each removal."""
        row = self.held[agent] & (self.known_at[agent] > after)
        ids = np.flatnonzero(row)
        for t in ids:
            self.removed.append((now, agent, int(t), float(self.known_at[agent, t])))
        if self.alive[agent]:
            self.holders[ids] -= 1
            self.holders_total -= len(ids)
            if self.part_holders is not None:
                self.part_holders[self.part[agent], ids] -= 1
        self.held[agent, ids] = False
        self.known_at[agent, ids] = np.inf
        if self.batches is not None:
            self.batches.drop(agent, ids)
        self.rescan(agent)

    def restart(self, agent: int, now: float) -> None:
        """An agent back without its bank: everything it held is dropped (logged), and its merge
        pipeline is free from now on."""
        self.wipe(agent, now)
        self.merge_free[agent] = now
        if self.batches is not None:
            self.batches.restart(agent)

    def resume_merges(self, agent: int, crashed_at: float, now: float) -> None:
        """An agent back with its bank: merges its crash at `crashed_at` cut resume where they
        stopped, shifted by the time it was down."""
        down = now - crashed_at
        pending = self.held[agent] & (self.known_at[agent] > crashed_at)
        self.known_at[agent, pending] += down
        self.merge_free[agent] = max(now, self.merge_free[agent] + down)
        if self.batches is not None:
            self.batches.resume(agent, crashed_at, down)

    def own(self, agent: int, task: int, now: float) -> None:
        """An agent learned a task itself: it holds and knows it now."""
        self.held[agent, task] = True
        self.known_at[agent, task] = now
        self.merge_free[agent] = max(self.merge_free[agent], now)
        if self.batches is not None:
            self.batches.own(agent, task)
        self.holders[task] += 1
        self.holders_total += 1
        if self.part_holders is not None:
            self.part_holders[self.part[agent], task] += 1

    def set_alive(self, agent: int, alive: bool) -> None:
        """Mark an agent dead or alive and recount holders among the living."""
        self.alive[agent] = alive
        self.live[agent] = alive
        self.holders = self.held[self.alive].sum(axis=0)
        self.holders_total = int(self.holders.sum())
        self._complete = self._settled = (-1, False)
        self._find_parts()

    def _find_parts(self) -> None:
        """Split the living into the connected parts of the graph they form (part_holders None
        when they form one part: a connected graph with nobody dead, the common case)."""
        self.part_sizes = self.part_holders = None
        if self.graph is None or self.n_agents < 2:
            return
        parts = list(nx.connected_components(self.graph.subgraph(np.flatnonzero(self.alive).tolist())))
        if len(parts) > 1:
            for i, members in enumerate(parts):
                self.part[list(members)] = i
            self.part_sizes = np.array([len(m) for m in parts])
            self.part_holders = np.stack([self.held[sorted(m)].sum(axis=0) for m in parts])

    def complete(self) -> bool:
        """Every task is held by no alive agent or by all of them (as far as caught up)."""
        if self._complete[0] != self.holders_total:
            n = int(self.alive.sum())
            self._complete = (self.holders_total, bool(((self.holders == 0) | (self.holders == n)).all()))
        return self._complete[1]

    def settled(self) -> bool:
        """No exchange can bring anyone news: in each part of the graph the living form (one part
        in a connected graph where nobody is dead), every task is held by none of its agents or by all."""
        if self.part_holders is None:
            return self.complete()
        if self._settled[0] != self.holders_total:
            h, size = self.part_holders, self.part_sizes[:, None]
            self._settled = (self.holders_total, bool(((h == 0) | (h == size)).all()))
        return self._settled[1]

    # -- arrivals -------------------------------------------------------------------------------
    def expect(self, flow: Flow) -> None:
        """A flow towards flow.dst has started: add an inbox entry [flow, next item, scan mark]."""
        entry = [flow, 0, 0]
        flow.entry = entry
        self.inbox[flow.dst].append(entry)
        if flow.arr_l and flow.arr_l[0] < self.due[flow.dst]:
            self.due[flow.dst] = flow.arr_l[0]

    def moved(self, flow: Flow) -> None:
        """A flow's arrival times changed (rate change): its receiver may be due earlier."""
        lo = flow.entry[1]
        if lo < flow.limit and flow.arr_l[lo] < self.due[flow.dst]:
            self.due[flow.dst] = flow.arr_l[lo]

    def collect(self, agent: int, now: float) -> tuple[list[int], list[int], list[float]] | None:
        """Items arrived at `agent` until `now`, lost ones removed, as lists (ids, senders, times)
        in arrival order: items that land at the same instant by sender, then by the order their
        flows started. None when nothing arrived."""
        if now < self.due[agent]:
            return None
        parts = []
        inbox = self.inbox[agent]
        finished = False
        due = np.inf
        for entry in inbox:
            flow, lo = entry[0], entry[1]
            hi = flow.limit
            arr = flow.arr_l
            if lo < hi and arr[lo] <= now:
                k = bisect_right(arr, now, lo, hi) - lo  # arrivals increase with the index
                parts.append((flow, lo, lo + k))
                entry[1] = lo = lo + k
            if lo < hi:
                if arr[lo] < due:
                    due = arr[lo]
            elif flow.ended:
                finished = True
        self.due[agent] = due
        if finished:
            keep = []
            for e in inbox:
                if e[1] < e[0].limit or not e[0].ended:
                    keep.append(e)
                else:
                    e[0].entry = None  # break the flow <-> entry cycle: refcounting frees both
            self.inbox[agent] = keep
        if not parts:
            return None
        ids, srcs, times = [], [], []
        for flow, lo, hi in parts:
            if flow.lost is None:
                ids += flow.ids_l[lo:hi]
                times += flow.arr_l[lo:hi]
                srcs += [flow.src] * (hi - lo)
            else:
                for i in range(lo, hi):
                    if not flow.lost[i]:
                        ids.append(flow.ids_l[i])
                        times.append(flow.arr_l[i])
                        srcs.append(flow.src)
        if len(parts) > 1:  # a stable sort: a flow's items keep their order
            order = sorted(range(len(times)), key=lambda i: (times[i], srcs[i]))
            ids, srcs, times = [ids[i] for i in order], [srcs[i] for i in order], [times[i] for i in order]
        return ids, srcs, times

    def next_arrival(self, agent: int, tokens_only: bool, only: list | None = None) -> float:
        """Earliest time a new package (or any digest token) will arrive at `agent` (from one
        inbox entry if `only` is given)."""
        best = np.inf
        held = self.held[agent]
        for entry in (self.inbox[agent] if only is None else (only,)):
            flow, lo = entry[0], entry[1]
            hi = flow.limit
            if lo >= hi:
                continue
            tokens = flow.tokens
            if tokens is not None:
                i = bisect_left(tokens, lo)
                if i < len(tokens) and tokens[i] < hi:
                    best = min(best, flow.arr_l[tokens[i]])
            if tokens_only:
                continue
            scan = max(lo, entry[2])  # items before `scan` are held already, and stay held
            # a plain Python walk: cheaper per item than numpy windows, and each item is passed
            # once (the mark in entry[2] remembers where the walk stopped)
            arr, ids, lost = flow.arr_l, flow.ids_l, flow.lost
            while scan < hi and arr[scan] < best:
                task = ids[scan]
                if task >= 0 and not held[task] and (lost is None or not lost[scan]):
                    best = arr[scan]
                    break
                scan += 1
            entry[2] = scan
        return best

    def packages_incoming(self) -> bool:
        """True while some package (not a digest, not lost) has left its sender for an alive agent
        and has not been taken in yet (in flight, or arrived since the agent last caught up)."""
        for agent, inbox in enumerate(self.inbox):
            if not self.live[agent]:
                continue
            for entry in inbox:
                flow, lo = entry[0], entry[1]
                lost = flow.lost
                ids = flow.ids_l
                for i in range(lo, flow.limit):
                    if ids[i] >= 0 and (lost is None or not lost[i]):
                        return True
        return False

    def sift(self, agent: int, ids: list[int]) -> tuple[list[int], list[int]]:
        """Indices of digest tokens, and of packages `agent` does not hold yet (only the first
        copy of each), in order."""
        held = self.held[agent]
        toks, keep, seen = [], [], set()
        for i, task in enumerate(ids):
            if task < 0:
                toks.append(i)
            elif not held[task] and task not in seen:
                seen.add(task)
                keep.append(i)
        return toks, keep

    def rescan(self, agent: int) -> None:
        """Packages were dropped from an agent's bank: forget what the scans learned."""
        for entry in self.inbox[agent]:
            entry[2] = entry[1]

    def in_flight(self, agent: int, d: int) -> list[tuple[Flow, int]]:
        """(flow, first item not taken in) of every flow on direction d that has left its sender
        and still has items on their way to `agent`."""
        return [(e[0], e[1]) for e in self.inbox[agent] if e[0].direction == d and e[0].ended and e[1] < e[0].limit]

    def drop_inbox(self, agent: int) -> None:
        """Forget everything still on its way to a dead agent (its flows were cut)."""
        for e in self.inbox[agent]:
            e[0].entry = None  # break the flow <-> entry cycle
        self.inbox[agent] = []
        self.due[agent] = np.inf
