"""The learning side of a run: every task learned once (cached by content hash), and the survivors'
banks evaluated with no task oracle. Imported only by runs that learn: it loads torch and timm,
which a synthetic workload (sim.workload_config) never needs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, MutableMapping

import numpy as np

from agents.agent import Agent
from agents.backbone import Backbone, create_backbone
from agents.cache import leftovers
from agents.cache.claims import ClaimBoard
from agents.device import best_device
from agents.features import FeatureCache
from agents.learner import LearnResult, ResultStore, learn_task
from agents.suites import TaskSuite, create_suite
from agents.timing import machine_of, provenance
from sim.experiment import wall_timing
from sim.experiment.scenario import Scenario
from sim.workload import TaskWork, Workload

# How often a process whose remaining tasks are all claimed by others looks again (for their results,
# or for a claim gone stale to take over).
CLAIM_POLL_S = 0.5

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
    _evaluations: MutableMapping[frozenset[int], Any] = field(default_factory=dict)

    def workload(self, assignment: list[list[int]]) -> Workload:
        """The learned costs as the engine's workload (per owner, in learning order)."""
        tasks = []
        for owner, task_ids in enumerate(assignment):
            for tid in task_ids:
                r = self.learned[tid]
                own, batch, hold = r.merge_parts(self.backbone.macs_per_image)  # merges batched per receiver
                tasks.append(TaskWork(task_id=tid, owner=owner, macs=r.total_macs, nbytes=len(r.package),
                                      student_macs=own, batch_macs=batch, hold_macs=hold, wall_s=float(r.wall_s)))
        return Workload(tasks=tasks)


def task_seed(root_seed: int, task_id: int) -> int:
    """The learning seed of one task: from the scenario's root seed and the task id, not the agent,
    so a task's package does not depend on who learns it."""
    return int(np.random.SeedSequence([root_seed, task_id]).generate_state(1)[0])


def build_suite(scenario: Scenario) -> TaskSuite:
    """The scenario's task suite (its images loaded)."""
    return create_suite(scenario.tasks)


def learn_all(scenario: Scenario, suite: TaskSuite, assignment: list[list[int]], order: list[int], *,
              cache_dir: Path | None, progress: Progress, backbone: Backbone | None = None) -> Learning:
    """Learn every task once in `order` (cached by content hash); refuse a wall-timed mix of machines.
    `backbone`: one already built for these settings (a study's worker), else built here."""
    device = best_device(scenario.learner.device)
    if backbone is None:
        backbone = create_backbone(scenario.learner.backbone, device=device)

    def report(message: str) -> None:  # a bad cache entry, named: warned about, then recomputed
        progress("warning", message=message)

    features = FeatureCache(cache_dir, report=report)
    store = ResultStore(features.root / "results", report=report)
    swept = leftovers.sweep(features.root)
    if swept:
        report(f"removed {len(swept)} temp file(s) that dead writers left in {features.root}")
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
    start = time.perf_counter()
    owner = {tid: agent for agent, tasks in enumerate(assignment) for tid in tasks}
    learned = {tid: r for tid, r in cached.items() if r is not None}
    for tid in order:
        if tid in learned:
            progress("task_learned", task=tid, agent=owner[tid], name=task_by_id[tid].name, cached=True,
                     bytes=len(learned[tid].package))
    jobs = {tid: (task_by_id[tid], seeds[tid]) for tid in order if tid not in learned}
    fresh, extracted = _learn_claimed(jobs, backbone, scenario, features, store, learned, owner, progress)
    learned = {tid: learned[tid] for tid in order}  # in learning order, however they were found
    wall = time.perf_counter() - start
    hits = len(order) - len(fresh)
    progress("learning_done", seconds=wall, cached=hits)
    if scenario.timing == "wall":  # features cached by another machine show only now
        wall_timing.check_one_machine(wall_timing.machines(learned.values()), features.root)
    return Learning(suite, backbone, features, learned, wall, hits, fresh, extracted)


def _learn_claimed(jobs: dict[int, tuple[Any, int]], backbone: Backbone, scenario: Scenario, features: FeatureCache,
                   store: ResultStore, learned: dict[int, LearnResult], owner: dict[int, int],
                   progress: Progress) -> tuple[set[int], set[int]]:
    """Learn each job not in the cache, one claim at a time (agents.cache.claims), into `learned`.

    Processes sharing the cache split the jobs: a job another live process has claimed is skipped
    and its result read once written; a dead process's claim is taken over. Returns (fresh, extracted):
    the jobs this process learned, and those whose features it computed.
    """
    board = ClaimBoard(features.root)
    fresh: set[int] = set()
    extracted: set[int] = set()
    waiting = list(jobs)
    while waiting:
        for tid in list(waiting):
            task, seed = jobs[tid]
            key = store.key(task, backbone, scenario.learner, seed)
            result = store.get_key(key)  # another process may have finished it
            if result is None:
                claim = board.try_claim(key)
                if claim is None:
                    continue  # another live process is learning it
                with claim:
                    result = store.get_key(key)  # finished between our look and our claim
                    if result is None:
                        misses = features.misses
                        result = learn_task(task, backbone, scenario.learner, seed, features)
                        store.put(task, backbone, scenario.learner, seed, result)
                        fresh.add(tid)
                        if features.misses > misses:
                            extracted.add(tid)
            learned[tid] = result
            waiting.remove(tid)
            progress("task_learned", task=tid, agent=owner[tid], name=task.name, cached=tid not in fresh,
                     bytes=len(result.package))
        if waiting:
            time.sleep(CLAIM_POLL_S)
    return fresh, extracted


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
