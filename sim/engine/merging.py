"""Merge batches: each agent's merge pipeline when merging has per-batch work.

A Mahalanobis mapper renews its precision once for all the packages it merges together (agents.mapper):
the covariance inversion (`TaskWork.batch_macs`) and re-caching every class it holds by then
(`TaskWork.hold_macs` of each package held) are paid once per batch, each package's own part
(`TaskWork.student_macs`) once per package. The pipeline is serial: a batch starts when the
agent's previous batch is done (or when its first package arrives, if the pipeline is idle then),
and takes every package that arrives until it starts: those that land at one instant, and those
that land while the agent is busy merging. Its packages are known when the whole batch is done.

Where the workload gives the receivers' scatter (`Workload.scatter`: feature dim, shrinkage, and
per task its exemplars and classes), each agent's scatter state is tracked instead
(agents.merge_costs.Scatter: exemplars merged, classes held, whether its metric is S^-1 exactly) and
each batch pays the renewal the mapper's rule picks from it, re-inversion or Woodbury, by the same
counted formula the mapper uses (agents.merge_costs.renewal_macs); each package its own part. An
agent's own tasks enter its scatter as it learns them (renewed by the learner, not charged here).
"""

from __future__ import annotations

import numpy as np

from agents.merge_costs import Scatter


class MergeBatches:
    """Each agent's last merge batch (start, packages, MACs), writing merge times into `known_at`
    and the pipeline's next free time into `free` (both Knowledge's arrays). `renewals` counts each
    batch's per-batch part: FullInversions (batch_macs, hold_macs) or ScatterStates."""

    def __init__(self, student: np.ndarray, renewals: "FullInversions | ScatterStates", rates: np.ndarray,
                 known_at: np.ndarray, free: np.ndarray) -> None:
        n = len(rates)
        self.student = np.asarray(student, dtype=np.float64)
        self.renewals = renewals
        self.rates, self.known_at, self.free = rates, known_at, free
        self.start = [-np.inf] * n  # when each agent's last batch starts merging
        self.members: list[list[int]] = [[] for _ in range(n)]  # its packages
        self.cost = [0.0] * n  # its MACs
        self.batches = 0  # batches started, over all agents

    def take(self, agent: int, task: int, t: float) -> float:
        """Merge package `task`, arrived at `agent` at `t` (arrivals come in time order): into the
        last batch if it has not started by `t`, else into a new one; return the MACs it adds."""
        members = self.members[agent]
        joins = bool(members) and t <= self.start[agent]
        added = float(self.student[task]) + self.renewals.take(agent, task, joins)
        if joins:
            self.cost[agent] += added
            members.append(task)
        else:
            self.start[agent] = max(t, float(self.free[agent]))
            self.cost[agent], members = added, [task]
            self.members[agent] = members
            self.batches += 1
        end = self.start[agent] + self.cost[agent] / self.rates[agent]
        self.free[agent] = end
        self.known_at[agent, members] = end
        return added

    def own(self, agent: int, task: int) -> None:
        """The agent learned `task` itself: it is in the agent's mapper for later batches."""
        self.renewals.own(agent, task)

    def drop(self, agent: int, tasks: np.ndarray) -> None:
        """Packages left the agent's bank: no later batch re-caches them, and the last batch (whose
        MACs stay spent) no longer sets their merge time."""
        self.renewals.drop(agent, tasks)
        gone = set(np.asarray(tasks).tolist())
        self.members[agent] = [t for t in self.members[agent] if t not in gone]

    def restart(self, agent: int) -> None:
        """The agent is back with an empty bank and an idle pipeline."""
        self.members[agent], self.start[agent] = [], -np.inf
        self.renewals.restart(agent)

    def resume(self, agent: int, crashed_at: float, down: float) -> None:
        """The agent is back with its bank after `down` seconds: a batch that had not started by the
        crash starts that much later."""
        if self.start[agent] > crashed_at:
            self.start[agent] += down


class FullInversions:
    """Per-batch parts given per task: a batch pays its packages' largest batch_macs once (a full
    inversion) plus hold_macs of every package its agent holds by then (its own tasks too)."""

    def __init__(self, n_agents: int, batch: np.ndarray, hold: np.ndarray) -> None:
        self.batch, self.hold = np.asarray(batch, dtype=np.float64), np.asarray(hold, dtype=np.float64)
        self.top = [0.0] * n_agents  # the last batch's largest batch_macs
        self.holding = [0.0] * n_agents  # hold_macs of everything each agent holds

    def take(self, agent: int, task: int, joins: bool) -> float:
        """The per-batch MACs package `task` adds, joining the agent's last batch or opening one."""
        batch, hold = float(self.batch[task]), float(self.hold[task])
        self.holding[agent] += hold
        if joins:
            more = max(batch - self.top[agent], 0.0)  # the batch pays its largest per-batch part once
            self.top[agent] += more
            return hold + more
        self.top[agent] = batch
        return batch + self.holding[agent]

    def own(self, agent: int, task: int) -> None:
        self.holding[agent] += float(self.hold[task])

    def drop(self, agent: int, tasks: np.ndarray) -> None:
        self.holding[agent] -= float(self.hold[tasks].sum())

    def restart(self, agent: int) -> None:
        self.holding[agent] = 0.0


class ScatterStates:
    """Each agent's tied scatter (agents.merge_costs.Scatter): a batch pays the renewal the mapper's
    rule picks from the scatter the batch starts from (re-inversion, pseudo-inverse or Woodbury),
    recounted as packages join it. Tasks the agent learns itself enter the scatter that the next
    batch starts from (renewed by the learner, uncharged)."""

    def __init__(self, n_agents: int, empty: Scatter, exemplars: np.ndarray, classes: np.ndarray) -> None:
        self.empty = empty
        self.exemplars, self.classes = np.asarray(exemplars, dtype=np.int64), np.asarray(classes, dtype=np.int64)
        self.base = [empty] * n_agents  # the scatter each agent's last batch started from
        self.after = [empty] * n_agents  # ... and the one it leaves
        self.fresh = [(0, 0)] * n_agents  # exemplars and classes of the last batch's packages
        self.cost = [0] * n_agents  # the last batch's renewal MACs
        self.learned = [(0, 0)] * n_agents  # exemplars and classes of tasks learned since
        self.kinds: dict[str, int] = {}  # renewals charged, by how (inverse, inverse (pseudo), woodbury)
        self.last = [""] * n_agents  # how each agent's last batch renews

    def take(self, agent: int, task: int, joins: bool) -> float:
        """The renewal MACs package `task` adds, joining the agent's last batch or opening one."""
        n, c = int(self.exemplars[task]), int(self.classes[task])
        if joins:
            n0, c0 = self.fresh[agent]
            n, c = n0 + n, c0 + c
            if self.last[agent]:  # recounted: the batch's renewal so far is replaced
                self.kinds[self.last[agent]] -= 1
        else:
            start, (ln, lc) = self.after[agent], self.learned[agent]
            self.base[agent] = start.learned(ln, lc) if ln or lc else start
            self.learned[agent], self.cost[agent] = (0, 0), 0
        how, macs, self.after[agent] = self.base[agent].renew(n, c)
        self.fresh[agent], self.last[agent] = (n, c), how
        self.kinds[how] = self.kinds.get(how, 0) + 1
        added, self.cost[agent] = macs - self.cost[agent], macs
        return float(added)

    def own(self, agent: int, task: int) -> None:
        ln, lc = self.learned[agent]
        self.learned[agent] = (ln + int(self.exemplars[task]), lc + int(self.classes[task]))

    def drop(self, agent: int, tasks: np.ndarray) -> None:
        """The dropped packages leave the scatter; the next batch re-inverts (and starts afresh)."""
        ln, lc = self.learned[agent]
        start = self.after[agent].learned(ln, lc) if ln or lc else self.after[agent]
        self.after[agent] = start.dropped(int(self.exemplars[tasks].sum()), int(self.classes[tasks].sum()))
        self.learned[agent], self.base[agent] = (0, 0), self.after[agent]
        self.fresh[agent], self.cost[agent], self.last[agent] = (0, 0), 0, ""

    def restart(self, agent: int) -> None:
        self.base[agent] = self.after[agent] = self.empty
        self.fresh[agent], self.cost[agent], self.learned[agent], self.last[agent] = (0, 0), 0, (0, 0), ""
