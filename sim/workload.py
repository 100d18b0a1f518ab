"""What the agents must learn: per task its owner, teacher cost, package size and merge cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from agents.merge_costs import Scatter
from sim.errors import SimError
from topologies.links import draw_distribution


@dataclass(frozen=True)
class TaskWork:
    """One task's costs as the engine sees them: learning MACs, package bytes, merge MACs."""

    task_id: int
    owner: int
    macs: int  # teacher MACs to learn the task
    nbytes: int  # size of its share package on the wire
    student_macs: int  # a receiver's MACs to merge the package into its bank (per package)
    wall_s: float = 0.0  # measured learning wall time, used when timing="wall"
    # Merge work a receiver does once per merge batch (sim.engine.merging), not per package: the
    # batch's largest batch_macs (a Mahalanobis mapper's inversion), plus hold_macs of every package
    # it holds by then (re-caching that package's classes under the new precision).
    batch_macs: int = 0
    hold_macs: int = 0
    # What a Mahalanobis package adds to a receiver's tied scatter (Workload.scatter): its exemplars
    # and its classes, from which each batch's renewal is counted by the mapper's rule.
    exemplars: int = 0
    classes: int = 0

    def seconds(self, rate: float, timing: str = "macs") -> float:
        """Simulated seconds to learn this task on a device of `rate` MACs/s (timing "macs"), or
        its measured wall time (timing "wall")."""
        return self.wall_s if timing == "wall" else self.macs / rate

    def __post_init__(self) -> None:
        for name in ("task_id", "owner", "macs", "nbytes", "student_macs", "wall_s", "batch_macs", "hold_macs",
                     "exemplars", "classes"):
            if not getattr(self, name) >= 0:  # (NaN too: it would order after every time)
                raise SimError(f"TaskWork.{name} must be a number >= 0, got {getattr(self, name)!r}")
        if self.nbytes < 1:  # a package that took no time on the wire would land as it is sent
            raise SimError(f"TaskWork.nbytes must be >= 1 (a package has at least a header), got {self.nbytes!r}")


@dataclass(frozen=True)
class Workload:
    """All tasks; per owner, list order is learning order. Task ids must be 0..T-1, each once."""

    tasks: list[TaskWork] = field(default_factory=list)
    # A receiver's empty tied scatter (feature dim, shrinkage) where packages carry Mahalanobis
    # anchors: each merge batch then pays the renewal the mapper would choose from the receiver's
    # scatter then (agents.merge_costs: re-inversion or Woodbury) instead of the largest batch_macs
    # plus hold_macs of everything held (a full re-inversion every batch). None: batch_macs/hold_macs.
    scatter: Scatter | None = None

    def __post_init__(self) -> None:
        ids = sorted(t.task_id for t in self.tasks)
        if ids != list(range(len(ids))):
            raise SimError(f"Workload task ids must be 0..{len(ids) - 1} each once, got {ids[:10]}...")
        if self.scatter is not None and (self.scatter.exemplars or self.scatter.classes):
            raise SimError(f"Workload.scatter must be an empty scatter (a receiver's start), got {self.scatter}")

    @property
    def num_tasks(self) -> int:
        """Number of tasks (T)."""
        return len(self.tasks)

    @property
    def batched(self) -> bool:
        """Whether merging has per-batch work (a receiver's scatter, or some task's batch_macs or
        hold_macs is not 0)."""
        return self.scatter is not None or any(t.batch_macs or t.hold_macs for t in self.tasks)

    def by_owner(self) -> dict[int, list[TaskWork]]:
        """Tasks grouped by owner, each group in learning order."""
        groups: dict[int, list[TaskWork]] = {}
        for task in self.tasks:
            groups.setdefault(task.owner, []).append(task)
        return groups

    def column(self, name: str) -> np.ndarray:
        """One attribute of every task as an array indexed by task id."""
        out = np.zeros(self.num_tasks, dtype=np.float64)
        for task in self.tasks:
            out[task.task_id] = getattr(task, name)
        return out


def synthetic_workload(
    n_agents: int,
    tasks_per_agent: int,
    macs: int,
    nbytes: int,
    student_macs: int = 0,
    seed: int | None = None,
    jitter: float = 0.0,
) -> Workload:
    """Cost-only workload: agent a owns tasks a*k..a*k+k-1; jitter scales costs by U(1-j, 1+j)."""
    if n_agents < 1 or tasks_per_agent < 1:
        raise SimError(f"need n_agents >= 1 and tasks_per_agent >= 1, got {n_agents}, {tasks_per_agent}")
    if not 0.0 <= jitter < 1.0:
        raise SimError(f"jitter must be in [0, 1), got {jitter!r}")
    rng = np.random.default_rng(seed)
    tasks = []
    for owner in range(n_agents):
        for k in range(tasks_per_agent):
            scale = rng.uniform(1 - jitter, 1 + jitter, size=3) if jitter else np.ones(3)
            tasks.append(
                TaskWork(
                    task_id=owner * tasks_per_agent + k,
                    owner=owner,
                    macs=int(macs * scale[0]),
                    nbytes=max(1, int(nbytes * scale[1])),
                    student_macs=int(student_macs * scale[2]),
                )
            )
    return Workload(tasks)


def draw_costs(spec: Any, count: int, floor: float, rng: np.random.Generator) -> np.ndarray:
    """`count` values of one cost (sim.workload_config.validate_cost has checked `spec`): a number
    repeated, or seeded draws, clipped at `floor` (as link attributes are drawn)."""
    values = draw_distribution(spec, count, rng)
    return np.maximum(values, floor)


def from_costs(assignment: list[list[int]], macs: Sequence[float], nbytes: Sequence[float],
               student_macs: Sequence[float], batch_macs: Sequence[float] | None = None) -> Workload:
    """The workload of tasks 0..T-1 with the given per-task costs; assignment[a] lists agent a's
    tasks in learning order. Costs are rounded to whole MACs and bytes."""
    tasks = [TaskWork(task_id=t, owner=owner, macs=int(round(macs[t])), nbytes=max(1, int(round(nbytes[t]))),
                      student_macs=int(round(student_macs[t])),
                      batch_macs=0 if batch_macs is None else int(round(batch_macs[t])))
             for owner, ids in enumerate(assignment) for t in ids]
    return Workload(tasks)
