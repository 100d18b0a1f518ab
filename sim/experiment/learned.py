"""The learning side of a run: every task learned once (cached by content hash), and the survivors'
banks evaluated with no task oracle. Imported only by runs that learn: it loads torch and timm,
which a synthetic workload (sim.workload_config) never needs.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, MutableMapping, Sequence

import numpy as np

from agents.agent import Agent
from agents.backbone import Backbone, create_backbone
from agents.cache import leftovers
from agents.cache.claims import ClaimBoard
from agents.device import best_device
from agents.features import FeatureCache
from agents.config import LearnerConfig, MahalanobisConfig
from agents.errors import LearningError
from agents.cache.evaluations import EvaluationCache, settings_key
from agents.learner import LearnResult, ResultStore, eval_features, key_settings, learn_task
from agents.merge_costs import Scatter
from agents.suites import Task, TaskSuite, create_suite
from agents.timing import machine_of, provenance
from sim.experiment import wall_timing
from sim.experiment.learn_jobs import Learned, LearningExecutor, LearnJob, LearnOutput, task_jobs
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

    def workload(self, assignment: list[list[int]], learner: LearnerConfig | None = None) -> Workload:
        """The learned costs as the engine's workload (per owner, in learning order). With a
        Mahalanobis `learner`, receivers' scatters are tracked so that each merge batch pays the
        renewal its mapper would choose (sim.engine.merging); else every batch a full inversion."""
        tasks, dim = [], 0
        for owner, task_ids in enumerate(assignment):
            for tid in task_ids:
                r = self.learned[tid]
                own, batch, hold = r.merge_parts(self.backbone.macs_per_image)  # merges batched per receiver
                exemplars, classes, dim = r.scatter_parts()
                tasks.append(TaskWork(task_id=tid, owner=owner, macs=r.total_macs, nbytes=len(r.package),
                                      student_macs=own, batch_macs=batch, hold_macs=hold, wall_s=float(r.wall_s),
                                      exemplars=exemplars, classes=classes))
        scatter = None
        if learner is not None and isinstance(learner.mapper, MahalanobisConfig) and dim:
            scatter = Scatter(dim, shrunk=learner.mapper.shrinkage > 0)
        return Workload(tasks=tasks, scatter=scatter)


def task_seed(root_seed: int, task_id: int) -> int:
    """The learning seed of one task: from the scenario's root seed and the task id, not the agent,
    so a task's package does not depend on who learns it."""
    return int(np.random.SeedSequence([root_seed, task_id]).generate_state(1)[0])


def build_suite(scenario: Scenario) -> TaskSuite:
    """The scenario's task suite (its images loaded)."""
    return create_suite(scenario.tasks)


def learn_all(scenario: Scenario, suite: TaskSuite, assignment: list[list[int]], order: list[int], *,
              cache_dir: Path | None, progress: Progress, backbone: Backbone | None = None,
              executor: LearningExecutor | None = None) -> Learning:
    """Learn every task once in `order` (cached by content hash); refuse a wall-timed mix of machines.
    `backbone`: one already built for these settings (a study's worker), else built here. `executor`:
    learn the missing tasks as jobs on its workers (sim.experiment.study.executors), else in this process."""
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
        if any(r is None for r in cached.values()) and executor is None:  # an executor's workers say later
            found.setdefault(machine_of(provenance(device)), set())
        wall_timing.check_one_machine(found, features.root)
    where = str(device) if executor is None else executor.describe()
    progress("learning_started", total=len(order), device=where)
    start = time.perf_counter()
    owner = {tid: agent for agent, tasks in enumerate(assignment) for tid in tasks}
    learned = {tid: r for tid, r in cached.items() if r is not None}
    for tid in order:
        if tid in learned:
            progress("task_learned", task=tid, agent=owner[tid], name=task_by_id[tid].name, cached=True,
                     bytes=len(learned[tid].package))
    missing = [tid for tid in order if tid not in learned]
    if not missing:  # a warm cache: the executor is not even started
        done = iter(())
    elif executor is None:
        done = learn_claimed([(task_by_id[tid], seeds[tid]) for tid in missing], backbone, scenario.learner,
                             features, store)
    else:
        done = _learn_on(executor, scenario, missing, features, store, report)
    fresh: set[int] = set()
    extracted: set[int] = set()
    for result, entry in done:
        learned[entry.task_id] = result
        if entry.fresh:
            fresh.add(entry.task_id)
        if entry.extracted:
            extracted.add(entry.task_id)
        progress("task_learned", task=entry.task_id, agent=owner[entry.task_id], name=task_by_id[entry.task_id].name,
                 cached=not entry.fresh, bytes=len(result.package))
    learned = {tid: learned[tid] for tid in order}  # in learning order, however they were found
    wall = time.perf_counter() - start
    hits = len(order) - len(fresh)
    progress("learning_done", seconds=wall, cached=hits)
    if scenario.timing == "wall":  # features cached by another machine (or worker) show only now
        wall_timing.check_one_machine(wall_timing.machines(learned.values()), features.root)
    return Learning(suite, backbone, features, learned, wall, hits, fresh, extracted)


def learn_claimed(work: Sequence[tuple[Task, int]], backbone: Backbone, learner: LearnerConfig,
                  features: FeatureCache, store: ResultStore) -> Iterator[tuple[LearnResult, Learned]]:
    """Learn each (task, seed) of `work` not in the cache, one claim at a time (agents.cache.claims);
    yield each task's result as it is found or learned. The one learning loop: `run` calls it in
    its own process, and every executor's workers through `learn_job`.

    Processes sharing the cache split the work: a task another live process has claimed is skipped
    and its result read once written; a dead process's claim is taken over. A task learned here
    also has its test features extracted (uncharged: they serve only the evaluation).
    """
    board = ClaimBoard(features.root)
    waiting = list(range(len(work)))  # positions: a Task's data need not compare with ==
    while waiting:
        for i in list(waiting):
            task, seed = work[i]
            key = store.key(task, backbone, learner, seed)
            result, fresh, extracted = store.get_key(key), False, False  # another process may have finished it
            if result is None:
                claim = board.try_claim(key)
                if claim is None:
                    continue  # another live process is learning it
                with claim:
                    result = store.get_key(key)  # finished between our look and our claim
                    if result is None:
                        misses = features.misses
                        result = learn_task(task, backbone, learner, seed, features)
                        store.put_key(key, result)
                        fresh, extracted = True, features.misses > misses
                        # Test features now, while a built-in task's images are drawn (agents.suites.lazy):
                        # evaluation then reads them from the cache instead of drawing every task again.
                        eval_features(task, backbone, features)
            waiting.remove(i)
            yield result, Learned(task.id, key, fresh, extracted)
        if waiting:
            time.sleep(CLAIM_POLL_S)


def learn_job(job: LearnJob, suite: TaskSuite, backbone: Backbone) -> LearnOutput:
    """Run one learning job (sim.experiment.learn_jobs) with this worker's `suite` and `backbone`
    (built for the job's settings): its tasks through `learn_claimed`, into the job's cache; the
    results themselves in the output when the job asks to ship them, and the cache's warnings."""
    learner = LearnerConfig.model_validate(job.learner)
    out = LearnOutput(job.group, worker=worker_info(backbone))
    features = FeatureCache(Path(job.cache_dir) if job.cache_dir else None, report=out.warnings.append)
    store = ResultStore(features.root / "results", report=out.warnings.append)
    by_id = {t.id: t for t in suite.tasks}
    chosen = suite.tasks if job.task_ids is None else [by_id[tid] for tid in job.task_ids]
    work = [(task, task_seed(job.seed, task.id)) for task in chosen[job.offset::job.stride]]
    for result, entry in learn_claimed(work, backbone, learner, features, store):
        out.learned.append(entry)
        if job.ship:
            out.entries.append((entry.key, result))
    return out


def worker_info(backbone: Backbone) -> dict[str, Any]:
    """Where a job ran: process id, device, and the GPUs the process was given (CUDA_VISIBLE_DEVICES)."""
    return {"pid": os.getpid(), "device": str(backbone.device), "gpus": os.environ.get("CUDA_VISIBLE_DEVICES")}


def _learn_on(executor: LearningExecutor, scenario: Scenario, missing: list[int], features: FeatureCache,
              store: ResultStore, report: Callable[[str], None]) -> Iterator[tuple[LearnResult, Learned]]:
    """Learn the `missing` tasks as one job each on `executor`; yield each result as its job returns.
    Shipped results (workers without the driver's filesystem) are written to the driver's cache."""
    jobs = task_jobs(scenario, missing, str(features.root), ship=executor.ships_learning)
    for output in executor.learn(jobs):
        for message in output.warnings:
            report(message)
        shipped = dict(output.entries)
        for entry in output.learned:
            result = shipped.get(entry.key)
            if result is not None and store.get_key(entry.key) is None:
                store.put_key(entry.key, result)
            result = result if result is not None else store.get_key(entry.key)
            if result is None:
                raise LearningError(f"task {entry.task_id}: a {executor.name} worker learned it, but its result "
                                    f"{entry.key[:12]}… is not in the cache {features.root}; do the workers share "
                                    "this folder? Rerun, or use --executor ray, which ships results back")
            yield result, entry


def evaluate_survivors(learning: Learning, scenario: Scenario, banks: dict[int, frozenset[int]], *,
                       progress: Progress) -> dict[int, Any]:
    """Evaluate every alive agent's bank (`banks`) on all tasks' test sets with no task oracle.

    Agents that ended with the same bank get the same model, so each distinct bank is evaluated
    once (remembered across a sweep, and on disk across runs: agents.cache.evaluations).
    """
    distinct, cache = recall(learning, scenario, list(dict.fromkeys(banks.values())), progress)
    progress("evaluating", total=len(distinct))
    evaluate_with_agents(learning, scenario, distinct, cache, progress)
    return {a: learning._evaluations[b] for a, b in banks.items()}


def evaluate_with_agents(learning: Learning, scenario: Scenario, banks: Sequence[frozenset[int]],
                         cache: EvaluationCache | None, progress: Progress, event: str = "evaluated") -> None:
    """Evaluate each bank with an Agent holding its packages; into the learning's store and `cache`."""
    for bank in banks:
        agent = Agent(-1, learning.backbone, scenario.learner, cache=learning.features)
        for tid in sorted(bank):
            agent.receive(learning.learned[tid].package)
        learning._evaluations[bank] = agent.evaluate(learning.suite)
        if cache is not None:
            cache.put(bank, learning._evaluations[bank])
        progress(event, tasks=len(bank))


def evaluation_cache(learning: Learning, scenario: Scenario, progress: Progress) -> EvaluationCache:
    """The on-disk evaluations of banks of this learning's packages (agents.cache.evaluations),
    under the backbone, the learner settings that decide a result and the suite's test sets."""
    settings = settings_key(learning.backbone.fingerprint, key_settings(scenario.learner), learning.suite.fingerprint)
    return EvaluationCache(learning.features.root, settings, {tid: r.package for tid, r in learning.learned.items()},
                           report=lambda message: progress("warning", message=message))


def recall(learning: Learning, scenario: Scenario, banks: Sequence[frozenset[int]],
           progress: Progress) -> tuple[list[frozenset[int]], EvaluationCache | None]:
    """Put every bank of `banks` found on disk (same packages, same settings) into the learning's
    store; return those still to evaluate, in order, and the disk cache to put them in (None when
    every bank was known already)."""
    missing = [b for b in banks if b not in learning._evaluations]
    if not missing:
        return [], None
    cache = evaluation_cache(learning, scenario, progress)
    left = []
    for bank in missing:
        found = cache.get(bank)
        if found is None:
            left.append(bank)
        else:
            learning._evaluations[bank] = found
    return left, cache


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
