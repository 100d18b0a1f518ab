"""Learning jobs as plain data in and out, so that any executor (this process, a process pool, Ray)
can run them: a job names a scenario's `tasks` and `learner` sections, its root seed and which of its
tasks to learn; its output names each task's cache key, whether it was learned now, and carries the
results themselves when the worker may not share the driver's filesystem. Light: no torch here
(sim.experiment.learned.learn_job runs a job)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol


@dataclass(frozen=True)
class LearnJob:
    """Learn (or find in the cache) tasks of one learning group: `task_ids` (None: every task of the
    suite), of which this job takes every `stride`-th from `offset`."""

    group: str  # hash of tasks + learner settings + root seed: scenarios with the same group learn alike
    tasks: dict[str, Any]  # the scenario's `tasks` section (JSON)
    learner: dict[str, Any]  # the scenario's `learner` section (JSON)
    seed: int  # the scenario's root seed (each task's seed derives from it: learned.task_seed)
    cache_dir: str | None
    ship: bool  # return the results too (workers that do not share the driver's filesystem)
    task_ids: tuple[int, ...] | None = None
    offset: int = 0
    stride: int = 1
    device: str | None = None  # where to learn, instead of learner.device (an executor's pinned GPU)


@dataclass(frozen=True)
class Learned:
    """One task a job finished: its result's cache key, and whether this job learned it (`fresh`) and
    computed its features (`extracted`) rather than reading them from the cache."""

    task_id: int
    key: str
    fresh: bool
    extracted: bool


@dataclass
class LearnOutput:
    """What a learning job did: each task finished, the results when shipped (cache key, result),
    the cache's warnings (bad entries it discarded) and where the job ran."""

    group: str
    learned: list[Learned] = field(default_factory=list)
    entries: list[tuple[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    worker: dict[str, Any] = field(default_factory=dict)  # pid, device, CUDA_VISIBLE_DEVICES

    @property
    def tasks(self) -> int:
        """How many tasks the job finished."""
        return len(self.learned)

    @property
    def fresh(self) -> int:
        """How many of them it learned (rather than found in the cache)."""
        return sum(entry.fresh for entry in self.learned)


def learning_group(scenario: Any) -> str:
    """Scenarios whose tasks, learner settings (device aside) and root seed agree learn the same packages."""
    data = [scenario.tasks.model_dump(mode="json"), scenario.learner.model_dump(mode="json", exclude={"device"}),
            scenario.seed]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def task_jobs(scenario: Any, task_ids: list[int], cache_dir: str | None, *, ship: bool) -> list[LearnJob]:
    """One job per task of `scenario` (a run's missing tasks: each reports as soon as it is learned)."""
    group = learning_group(scenario)
    tasks, learner = scenario.tasks.model_dump(mode="json"), scenario.learner.model_dump(mode="json")
    return [LearnJob(group, tasks, learner, scenario.seed, cache_dir, ship, task_ids=(tid,)) for tid in task_ids]


class LearningExecutor(Protocol):
    """What learning asks of an executor (sim.experiment.study.executors): run jobs, yielding each
    output as it finishes, and say whether results travel back (no shared filesystem)."""

    name: str
    ships_learning: bool

    def learn(self, jobs: list[LearnJob]) -> Iterator[LearnOutput]: ...

    def describe(self) -> str: ...
