"""The learning side of a run: every task learned once (cached by content hash), and the survivors'
banks evaluated with no task oracle. Imported only by runs that learn: it loads torch and timm,
which a synthetic workload (sim.workload_config) never needs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from agents.agent import Agent
from agents.backbone import Backbone, create_backbone
from agents.device import best_device
from agents.features import FeatureCache
from agents.learner import LearnResult, ResultStore, learn_task
from agents.suites import TaskSuite, create_suite
from agents.timing import machine_of, provenance
from sim.experiment import wall_timing
from sim.experiment.scenario import Scenario
from sim.workload import TaskWork, Workload

Progress = Callable[..., None]


@dataclass
class Learning:
    """What learning produced, once per scenario: the suite, backbone, features and each task's result."""

    suite: TaskSuite
    backbone: Backbone
    features: FeatureCache
    learned: dict[int, LearnResult]
    wall_s: float
    cache_hits: int
    fresh: set[int] = field(default_factory=set)  # tasks learned in this run (not read from the cache)
    extracted: set[int] = field(default_factory=set)  # tasks whose features this run computed
    _evaluations: dict[frozenset[int], Any] = field(default_factory=dict)

    def workload(self, assignment: list[list[int]]) -> Workload:
        """The learned costs as the engine's workload (per owner, in learning order)."""
        tasks = []
        for owner, task_ids in enumerate(assignment):
            for tid in task_ids:
                r = self.learned[tid]
                tasks.append(TaskWork(task_id=tid, owner=owner, macs=r.total_macs, nbytes=len(r.package),
                                      student_macs=int(r.student_macs), wall_s=float(r.wall_s)))
        return Workload(tasks=tasks)


def task_seed(root_seed: int, task_id: int) -> int:
    """The learning seed of one task: from the scenario's root seed and the task id, not the agent,
    so a task's package does not depend on who learns it."""
    return int(np.random.SeedSequence([root_seed, task_id]).generate_state(1)[0])


def build_suite(scenario: Scenario) -> TaskSuite:
    """The scenario's task suite (its images loaded)."""
    return create_suite(scenario.tasks)


def learn_all(scenario: Scenario, suite: TaskSuite, assignment: list[list[int]], order: list[int], *,
              cache_dir: Path | None, progress: Progress) -> Learning:
    """Learn every task once in `order` (cached by content hash); refuse a wall-timed mix of machines."""
    device = best_device(scenario.learner.device)
    backbone = create_backbone(scenario.learner.backbone, device=device)
    features = FeatureCache(cache_dir)
    store = ResultStore(features.root / "results")
    task_by_id = {t.id: t for t in suite.tasks}
    # Seed per task, not per agent: a task's package does not depend on who learns it.
    seeds = {tid: task_seed(scenario.seed, tid) for tid in order}
    cached = {tid: store.get(task_by_id[tid], backbone, scenario.learner, seeds[tid]) for tid in order}
    if scenario.timing == "wall":  # refuse a mix before learning what is missing (here)
        found = wall_timing.machines(r for r in cached.values() if r is not None)
        if any(r is None for r in cached.values()):
            found.setdefault(machine_of(provenance(device)), set())
        wall_timing.check_one_machine(found, features.root)
    progress("learning_started", total=len(order), device=str(device))
    learned: dict[int, LearnResult] = {}
    fresh: set[int] = set()
    extracted: set[int] = set()
    start = time.perf_counter()
    owner = {tid: agent for agent, tasks in enumerate(assignment) for tid in tasks}
    for tid in order:
        task = task_by_id[tid]
        result = cached[tid]
        hit = result is not None
        if result is None:
            misses = features.misses
            result = learn_task(task, backbone, scenario.learner, seeds[tid], features)
            store.put(task, backbone, scenario.learner, seeds[tid], result)
            fresh.add(tid)
            if features.misses > misses:
                extracted.add(tid)
        learned[tid] = result
        progress("task_learned", task=tid, agent=owner[tid], name=task.name, cached=hit, bytes=len(result.package))
    wall = time.perf_counter() - start
    hits = len(order) - len(fresh)
    progress("learning_done", seconds=wall, cached=hits)
    if scenario.timing == "wall":  # features cached by another machine show only now
        wall_timing.check_one_machine(wall_timing.machines(learned.values()), features.root)
    return Learning(suite, backbone, features, learned, wall, hits, fresh, extracted)


def evaluate_survivors(learning: Learning, scenario: Scenario, banks: dict[int, frozenset[int]], *,
                       progress: Progress) -> dict[int, Any]:
    """Evaluate every alive agent's bank (`banks`) on all tasks' test sets with no task oracle.

    Agents that ended with the same bank get the same model, so each distinct bank is evaluated
    once (and remembered across a sweep).
    """
    distinct = [b for b in dict.fromkeys(banks.values()) if b not in learning._evaluations]
    progress("evaluating", total=len(distinct))
    for bank in distinct:
        agent = Agent(-1, learning.backbone, scenario.learner, cache=learning.features)
        for tid in sorted(bank):
            agent.receive(learning.learned[tid].package)
        learning._evaluations[bank] = agent.evaluate(learning.suite)
        progress("evaluated", tasks=len(bank))
    return {a: learning._evaluations[b] for a, b in banks.items()}


def learning_section(learning: Learning) -> dict[str, Any]:
    """results.json's `learning`: MACs by phase, package sizes, wall time, cache hits, backbone."""
    phases: dict[str, int] = {}
    for r in learning.learned.values():
        for phase, macs in r.teacher_macs.items():
            phases[phase] = phases.get(phase, 0) + int(macs)
    sizes = [len(r.package) for r in learning.learned.values()]
    return {
        "macs_by_phase": phases,
        "package_bytes_mean": float(np.mean(sizes)) if sizes else 0.0,
        "package_bytes_total": int(sum(sizes)),
        "wall_s": learning.wall_s,
        "cached_tasks": learning.cache_hits,
        "backbone": learning.backbone.name,
        "feature_dim": learning.backbone.feature_dim,
    }
