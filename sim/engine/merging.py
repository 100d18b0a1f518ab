"""Merge batches: each agent's merge pipeline when merging has per-batch work.

A Mahalanobis mapper renews its precision once for all the packages it merges together (agents.mapper):
the covariance inversion (`TaskWork.batch_macs`) and re-caching every class it holds by then
(`TaskWork.hold_macs` of each package held) are paid once per batch, each package's own part
(`TaskWork.student_macs`) once per package. The pipeline is serial: a batch starts when the
agent's previous batch is done (or when its first package arrives, if the pipeline is idle then),
and takes every package that arrives until it starts: those that land at one instant, and those
that land while the agent is busy merging. Its packages are known when the whole batch is done.
"""

from __future__ import annotations

import numpy as np


class MergeBatches:
    """Each agent's last merge batch (start, packages, MACs), writing merge times into `known_at`
    and the pipeline's next free time into `free` (both Knowledge's arrays)."""

    def __init__(self, student: np.ndarray, batch: np.ndarray, hold: np.ndarray, rates: np.ndarray,
                 known_at: np.ndarray, free: np.ndarray) -> None:
        n = len(rates)
        self.student, self.batch, self.hold = (np.asarray(v, dtype=np.float64) for v in (student, batch, hold))
        self.rates, self.known_at, self.free = rates, known_at, free
        self.start = [-np.inf] * n  # when each agent's last batch starts merging
        self.members: list[list[int]] = [[] for _ in range(n)]  # its packages
        self.cost = [0.0] * n  # its MACs
        self.top = [0.0] * n  # its per-batch part: the largest batch_macs of its packages
        self.holding = [0.0] * n  # hold_macs of every package each agent holds (its own tasks too)
        self.batches = 0  # batches started, over all agents

    def take(self, agent: int, task: int, t: float) -> float:
        """Merge package `task`, arrived at `agent` at `t` (arrivals come in time order): into the
        last batch if it has not started by `t`, else into a new one; return the MACs it adds."""
        own, batch = float(self.student[task]), float(self.batch[task])
        self.holding[agent] += float(self.hold[task])
        members = self.members[agent]
        if members and t <= self.start[agent]:
            more = max(batch - self.top[agent], 0.0)  # the batch pays its largest per-batch part once
            self.top[agent] += more
            added = own + float(self.hold[task]) + more
            self.cost[agent] += added
            members.append(task)
        else:
            self.start[agent] = max(t, float(self.free[agent]))
            self.top[agent] = batch
            added = self.cost[agent] = own + batch + self.holding[agent]
            members = self.members[agent] = [task]
            self.batches += 1
        end = self.start[agent] + self.cost[agent] / self.rates[agent]
        self.free[agent] = end
        self.known_at[agent, members] = end
        return added

    def own(self, agent: int, task: int) -> None:
        """The agent learned `task` itself: later batches re-cache its classes too."""
        self.holding[agent] += float(self.hold[task])

    def drop(self, agent: int, tasks: np.ndarray) -> None:
        """Packages left the agent's bank: no later batch re-caches them, and the last batch (whose
        MACs stay spent) no longer sets their merge time."""
        self.holding[agent] -= float(self.hold[tasks].sum())
        gone = set(np.asarray(tasks).tolist())
        self.members[agent] = [t for t in self.members[agent] if t not in gone]

    def restart(self, agent: int) -> None:
        """The agent is back with an empty bank and an idle pipeline."""
        self.members[agent], self.start[agent], self.holding[agent] = [], -np.inf, 0.0

    def resume(self, agent: int, crashed_at: float, down: float) -> None:
        """The agent is back with its bank after `down` seconds: a batch that had not started by the
        crash starts that much later."""
        if self.start[agent] > crashed_at:
            self.start[agent] += down
