"""One experiment end to end: scenario -> tasks + graph -> learning (cached) -> simulation for each
alpha -> evaluation of every surviving agent with no task oracle -> a results dict.

Learning does not depend on what an agent has received (a head and an anchor are functions of their
own task only), so every task is learned once, up front, and cached by content hash; the simulation
then schedules those counted costs in simulated time. A sweep over alpha repeats only the simulation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, MutableMapping

import networkx as nx
import numpy as np

from agents.agent import Agent
from agents.backbone import Backbone, create_backbone
from agents.device import best_device
from agents.features import FeatureCache
from agents.learner import LearnResult, ResultStore, learn_task
from agents.timing import machine_of, provenance
from agents.suites import TaskSuite, create_suite
from sim.simulate import SimResult, simulate
from sim.errors import ScenarioError
from sim.experiment import incidents, shortfall, wall_timing
from sim.experiment.scenario import Balanced, Blocks, Explicit, Scenario
from sim.experiment.topology import build_topology
from sim.workload import TaskWork, Workload

# A progress callback receives an event name and its fields; only the CLI draws anything.
Progress = Callable[..., None]


def _quiet(name: str, /, **fields: Any) -> None:
    """Default progress callback: ignore everything."""


@dataclass
class Prepared:
    """Everything a simulation needs, computed once per scenario: tasks, graph, learned packages."""

    scenario: Scenario
    suite: TaskSuite
    backbone: Backbone
    features: FeatureCache
    assignment: list[list[int]]
    graph: nx.Graph
    learned: dict[int, LearnResult]
    learn_wall_s: float
    cache_hits: int
    fresh: set[int] = field(default_factory=set)  # tasks learned in this run (not read from the cache)
    extracted: set[int] = field(default_factory=set)  # tasks whose features this run computed
    _evaluations: MutableMapping[frozenset[int], Any] = field(default_factory=dict)

    @property
    def workload(self) -> Workload:
        """The learned costs as the engine's workload (per owner, in learning order)."""
        tasks = []
        for owner, task_ids in enumerate(self.assignment):
            for tid in task_ids:
                r = self.learned[tid]
                tasks.append(
                    TaskWork(
                        task_id=tid,
                        owner=owner,
                        macs=r.total_macs,
                        nbytes=len(r.package),
                        student_macs=int(r.student_macs),
                        wall_s=float(r.wall_s),
                    )
                )
        return Workload(tasks=tasks)


def assign_tasks(scenario: Scenario, sizes: list[int]) -> list[list[int]]:
    """Which tasks each agent learns, in order, from the scenario's assignment rule.

    `sizes[t]` is task t's number of training images, which sets its learning cost.
    """
    n = scenario.agents.count
    num_tasks = len(sizes)
    rule = scenario.agents.assignment
    if isinstance(rule, Explicit):
        seen: set[int] = set()
        for agent, tasks in enumerate(rule.tasks):
            for t in tasks:
                if not 0 <= t < num_tasks:
                    raise ScenarioError(
                        f"agents.assignment.tasks[{agent}] names task {t}, but tasks are 0..{num_tasks - 1}"
                    )
                if t in seen:
                    raise ScenarioError(f"agents.assignment.tasks: task {t} is assigned twice")
                seen.add(t)
        return [list(t) for t in rule.tasks]
    if isinstance(rule, Balanced):
        order = sorted(range(num_tasks), key=lambda t: (-sizes[t], t))
        dealt: list[list[int]] = [[] for _ in range(n)]
        for i, t in enumerate(order):
            round_, pos = divmod(i, n)
            dealt[pos if round_ % 2 == 0 else n - 1 - pos].append(t)
        return [sorted(tasks) for tasks in dealt]
    if isinstance(rule, Blocks):
        bounds = np.linspace(0, num_tasks, n + 1).round().astype(int)
        return [list(range(bounds[i], bounds[i + 1])) for i in range(n)]
    return [list(range(i, num_tasks, n)) for i in range(n)]


def task_seed(root_seed: int, task_id: int) -> int:
    """The learning seed of one task: per task, not per agent (a package does not depend on who learns it)."""
    return int(np.random.SeedSequence([root_seed, task_id]).generate_state(1)[0])


def prepare(scenario: Scenario, *, cache_dir: Path | None = None, progress: Progress = _quiet,
            suite: TaskSuite | None = None, backbone: Backbone | None = None,
            evaluations: MutableMapping[frozenset[int], Any] | None = None) -> Prepared:
    """Build tasks and graph, then learn every task once (cached by content hash).

    A study's worker passes the `suite` and `backbone` it already built for these settings, and an
    `evaluations` store shared by the cells that learn the same tasks (banks evaluated once)."""
    topo_seed = np.random.SeedSequence(scenario.seed).spawn(1)[0]
    suite = suite if suite is not None else create_suite(scenario.tasks)
    assignment = assign_tasks(scenario, [len(t.y_train) for t in suite.tasks])
    graph = build_topology(scenario, topo_seed)
    device = best_device(scenario.learner.device)
    if backbone is None:
        backbone = create_backbone(scenario.learner.backbone, device=device)
    features = FeatureCache(cache_dir)
    store = ResultStore(features.root / "results")

    order = [t for tasks in _interleave(assignment) for t in tasks]
    task_by_id = {t.id: t for t in suite.tasks}
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
    prepared = Prepared(scenario, suite, backbone, features, assignment, graph, learned, wall, hits, fresh, extracted)
    if evaluations is not None:
        prepared._evaluations = evaluations
    return prepared


def run_alpha(prepared: Prepared, alpha: float, *, progress: Progress = _quiet) -> tuple[dict[str, Any], SimResult]:
    """Simulate the network at one alpha, evaluate survivors; return the results dict and the raw run."""
    sc = prepared.scenario
    sim_seed = int(np.random.SeedSequence([sc.seed, 1]).generate_state(1)[0])
    progress("simulating", alpha=alpha)

    def observe(event: Any) -> None:
        progress("sim_event", event=event)

    start = time.perf_counter()
    result = simulate(
        prepared.graph,
        prepared.workload,
        rates=sc.agents.rates(),
        network=sc.network,
        gossip=sc.gossip,
        failures=sc.failures,
        seed=sim_seed,
        alpha=alpha,
        timing=sc.timing,
        observer=observe,
        engine=sc.engine,
    )
    sim_wall = time.perf_counter() - start
    progress("simulated", seconds=sim_wall)
    evaluation = evaluate_survivors(prepared, result, progress=progress)
    results = assemble_results(prepared, result, alpha, evaluation, sim_wall)
    results["incidents"] = incidents.summarise(result.recorder.incidents)  # all of them: events.csv
    return results, result


def evaluate_survivors(prepared: Prepared, result: SimResult, *, progress: Progress = _quiet) -> dict[int, Any]:
    """Evaluate every alive agent's bank on all tasks' test sets with no task oracle.

    Agents that ended with the same bank get the same model, so each distinct bank is evaluated
    once (and remembered across a sweep).
    """
    banks = {a: frozenset(result.bank(a)) for a in range(prepared.scenario.agents.count) if result.alive[a]}
    distinct = [b for b in dict.fromkeys(banks.values()) if b not in prepared._evaluations]
    progress("evaluating", total=len(distinct))
    for bank in distinct:
        agent = Agent(-1, prepared.backbone, prepared.scenario.learner, cache=prepared.features)
        for tid in sorted(bank):
            agent.receive(prepared.learned[tid].package)
        prepared._evaluations[bank] = agent.evaluate(prepared.suite)
        progress("evaluated", tasks=len(bank))
    return {a: prepared._evaluations[b] for a, b in banks.items()}


def assemble_results(
    prepared: Prepared, result: SimResult, alpha: float, evaluation: dict[int, Any], sim_wall: float
) -> dict[str, Any]:
    """The results.json contract: headline metrics, learning costs and one entry per agent."""
    sc = prepared.scenario
    m = result.metrics.to_dict()
    survivors = list(evaluation.values())

    def mean(attr: str) -> float | None:
        return float(np.mean([getattr(e, attr) for e in survivors])) if survivors else None

    phases: dict[str, int] = {}
    for r in prepared.learned.values():
        for phase, macs in r.teacher_macs.items():
            phases[phase] = phases.get(phase, 0) + int(macs)
    sizes = [len(r.package) for r in prepared.learned.values()]
    per_agent = []
    for a in range(sc.agents.count):
        ev = evaluation.get(a)
        per_agent.append(
            {
                "agent": a,
                "alive": bool(result.alive[a]),
                "learns": prepared.assignment[a],
                "tasks_known": len(result.bank(a)),
                "time_to_full_s": m["agent_full_s"][a],
                "bytes_in": m["bytes_in"][a],
                "bytes_out": m["bytes_out"][a],
                "accuracy": None if ev is None else ev.accuracy,
            }
        )
    return {
        "scenario": sc.name,
        "seed": sc.seed,
        "agents": sc.agents.count,
        "tasks": len(prepared.suite.tasks),
        "alpha": alpha,
        "topology": sc.topology.family,
        "protocol": sc.gossip.protocol,
        "makespan_s": m["makespan_s"],
        "single_agent_s": m["single_agent_s"],
        "speedup": m["speedup"],
        "efficiency": m["efficiency"],
        "teacher_macs": m["teacher_macs"],
        "student_macs": m["student_macs"],
        "bytes_sent": m["bytes_sent"],
        "bytes_delivered": m["bytes_delivered"],
        "bytes_lost": m["bytes_lost"],
        "alpha_cost": m["alpha_cost"],
        "accuracy": mean("accuracy"),
        "mapper_accuracy": mean("mapper_accuracy"),
        "oracle_accuracy": mean("oracle_accuracy"),
        "speedup_bound": _compute_bound(prepared, m["single_agent_s"]),
        "tasks_lost": len(m["tasks_lost"]),
        "tasks_lost_ids": m["tasks_lost"],
        "tasks_lost_by_cause": {cause: len(ids) for cause, ids in m["tasks_lost_by_cause"].items()},
        "tasks_lost_ids_by_cause": m["tasks_lost_by_cause"],
        "coverage_final": m["coverage_final"],
        "pairs_missing": m["pairs_missing"],
        "never_reached": shortfall.never_reached(sc.gossip.protocol, sum(m["alive"]), m["pairs_missing"],
                                                 m["wiped_survivors"]),
        "timing": sc.timing,
        **({"wall_timing": wall_timing.summary(prepared.learned, prepared.fresh, prepared.extracted)}
           if sc.timing == "wall" else {}),
        "learning": {
            "macs_by_phase": phases,
            "package_bytes_mean": float(np.mean(sizes)) if sizes else 0.0,
            "package_bytes_total": int(sum(sizes)),
            "wall_s": prepared.learn_wall_s,
            "cached_tasks": prepared.cache_hits,
            "backbone": prepared.backbone.name,
            "feature_dim": prepared.backbone.feature_dim,
        },
        "simulation": {
            "wall_s": sim_wall,
            "engine": result.engine,
            **{k: v for k, v in m.items() if k not in _HEADLINE},
            "coverage": thin(m["coverage"], 2000),
        },
        "per_agent": per_agent,
        "per_task_accuracy": _per_task(survivors),
    }


_HEADLINE = {
    "makespan_s", "single_agent_s", "speedup", "efficiency", "teacher_macs", "student_macs",
    "bytes_sent", "bytes_delivered", "bytes_lost", "alpha_cost", "tasks_lost", "tasks_lost_by_cause", "coverage_final",
    "pairs_missing",
    "agent_full_s", "bytes_in", "bytes_out", "alive", "alpha", "coverage",
}


def thin(series: list[Any], limit: int) -> list[Any]:
    """At most `limit` points of a step series, always keeping the last one."""
    if len(series) <= limit:
        return list(series)
    step = -(-len(series) // limit)
    return list(series[::step]) + ([series[-1]] if (len(series) - 1) % step else [])


def _compute_bound(prepared: Prepared, single_agent_s: float | None) -> float | None:
    """The speedup with free communication: single-agent time over the busiest agent's own learning.

    Tasks differ in size, so even at alpha -> 0 the slowest agent sets the makespan; this is the
    ceiling a sweep approaches at small alpha (N only if every agent's work were equal).
    """
    rates = prepared.scenario.agents.rates()
    if prepared.scenario.timing == "wall":
        busy = [sum(prepared.learned[t].wall_s for t in tasks) for tasks in prepared.assignment]
    else:
        busy = [sum(prepared.learned[t].total_macs for t in tasks) / rates[a] for a, tasks in enumerate(prepared.assignment)]
    worst = max(busy, default=0.0)
    return None if not single_agent_s or worst <= 0 else float(single_agent_s / worst)


def _per_task(evaluations: list[Any]) -> dict[str, float]:
    """Mean no-oracle accuracy of each task over the surviving agents."""
    if not evaluations:
        return {}
    keys = evaluations[0].per_task.keys()
    return {str(k): float(np.mean([e.per_task[k] for e in evaluations])) for k in keys}


def _interleave(assignment: list[list[int]]) -> list[list[int]]:
    """Learning order for progress: every agent's first task, then every agent's second, ..."""
    depth = max((len(a) for a in assignment), default=0)
    return [[a[i] for a in assignment if i < len(a)] for i in range(depth)]
