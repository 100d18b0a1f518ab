"""One experiment end to end: scenario -> tasks + graph -> learning (cached) -> simulation for each
alpha -> evaluation of every surviving agent with no task oracle -> a results dict.

Learning does not depend on what an agent has received (a head and an anchor are functions of their
own task only), so every task is learned once, up front, and cached by content hash; the simulation
then schedules those counted costs in simulated time. A sweep over alpha repeats only the simulation.
A synthetic workload (sim.workload_config) gives the costs instead: nothing is learned or evaluated,
and neither torch nor timm is imported (sim.experiment.learned holds everything that needs them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, MutableMapping

import networkx as nx
import numpy as np

from sim.simulate import SimResult, simulate
from sim.teacher import Lesson, Teacher
from sim.errors import ScenarioError
from sim.experiment import accounting, incidents, shortfall, wall_timing
from sim.experiment.scenario import Balanced, Blocks, Explicit, Scenario
from sim.experiment.topology import build_topology
from sim.workload import Workload, draw_costs, from_costs
from sim.workload_config import COST_FLOORS

if TYPE_CHECKING:  # loads torch: imported for real only by runs that learn
    from agents.backbone import Backbone
    from agents.suites import TaskSuite
    from sim.experiment.learned import Learning
    from sim.experiment.learn_jobs import LearningExecutor

# A progress callback receives an event name and its fields; only the CLI draws anything.
Progress = Callable[..., None]

# What the summary and results.json say where accuracy is null because nothing was learned.
EVALUATION_SKIPPED = "skipped: synthetic workload (costs given, nothing learned), accuracy is null"


def _quiet(name: str, /, **fields: Any) -> None:
    """Default progress callback: ignore everything."""


@dataclass
class Prepared:
    """Everything a simulation needs, computed once per scenario: who learns what, the graph, the
    costs, and (when the tasks are learned for real) what learning produced."""

    scenario: Scenario
    assignment: list[list[int]]
    graph: nx.Graph
    workload: Workload
    learning: Learning | None = None  # None for a synthetic workload: nothing learned or evaluated
    colearner: Any = None  # sim.experiment.cosim.CoLearner when learner.reuse is on (co-simulation)


def assign_tasks(scenario: Scenario, sizes: list[float]) -> list[list[int]]:
    """Which tasks each agent learns, in order, from the scenario's assignment rule.

    `sizes[t]` sets task t's learning cost: its number of training images (its teacher MACs for a
    synthetic workload).
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


def prepare(scenario: Scenario, *, cache_dir: Path | None = None, progress: Progress = _quiet,
            suite: TaskSuite | None = None, backbone: Backbone | None = None,
            evaluations: MutableMapping[frozenset[int], Any] | None = None,
            executor: LearningExecutor | None = None) -> Prepared:
    """Build tasks and graph, then learn every task once (cached by content hash; the missing ones on
    `executor`'s workers when given, else here); for a synthetic workload, draw its costs instead.

    A study's worker passes the `suite` and `backbone` it already built for these settings, and an
    `evaluations` store shared by the cells that learn the same tasks (banks evaluated once)."""
    topo_seed = np.random.SeedSequence(scenario.seed).spawn(1)[0]
    if scenario.workload is not None:
        assignment, workload = synthetic(scenario)
        return Prepared(scenario, assignment, build_topology(scenario, topo_seed), workload)
    from sim.experiment import learned

    suite = suite if suite is not None else learned.build_suite(scenario)
    if scenario.learner.reuse.enabled:
        from sim.experiment import cosim
        from sim.experiment.checks import check_reuse_suite

        check_reuse_suite(scenario, suite, f"scenario {scenario.name!r}")  # before anything is learned
    assignment = assign_tasks(scenario, [len(t.y_train) for t in suite.tasks])
    graph = build_topology(scenario, topo_seed)
    order = [t for tasks in _interleave(assignment) for t in tasks]
    learning = learned.learn_all(scenario, suite, assignment, order, cache_dir=cache_dir, progress=progress,
                                 backbone=backbone, executor=executor)
    if evaluations is not None:
        learning._evaluations = evaluations
    colearner = cosim.CoLearner(learning, scenario) if scenario.learner.reuse.enabled else None
    return Prepared(scenario, assignment, graph, learning.workload(assignment, scenario.learner), learning, colearner)


def synthetic(scenario: Scenario) -> tuple[list[list[int]], Workload]:
    """A synthetic workload's assignment and costs: an explicit list as given, or a count of tasks
    whose costs are drawn (one seeded generator per cost, children of the root seed) and dealt by
    agents.assignment (balanced: by teacher MACs)."""
    spec = scenario.workload
    n = scenario.agents.count
    if isinstance(spec.tasks, list):
        assignment: list[list[int]] = [[] for _ in range(n)]
        for t, task in enumerate(spec.tasks):
            if not 0 <= task.owner < n:
                raise ScenarioError(f"workload.tasks[{t}].owner = {task.owner}: not an agent (0..{n - 1})")
            assignment[task.owner].append(t)
        costs = [[getattr(task, k) for task in spec.tasks] for k in ("macs", "bytes", "student_macs", "student_batch_macs")]
        return assignment, from_costs(assignment, *costs)
    names = ("teacher_macs", "package_bytes", "student_macs", "student_batch_macs")  # spawn(4)[:3] == spawn(3)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence([scenario.seed, 2]).spawn(len(names))]
    macs, nbytes, student, batch = (draw_costs(getattr(spec, k), spec.tasks, COST_FLOORS[k], rng)
                                    for k, rng in zip(names, rngs))
    assignment = assign_tasks(scenario, macs.tolist())
    return assignment, from_costs(assignment, macs, nbytes, student, batch)


def run_alpha(prepared: Prepared, alpha: float, *, progress: Progress = _quiet) -> tuple[dict[str, Any], SimResult]:
    """Simulate the network at one alpha, evaluate survivors; return the results dict and the raw run."""
    sc = prepared.scenario
    sim_seed = int(np.random.SeedSequence([sc.seed, 1]).generate_state(1)[0])
    progress("simulating", alpha=alpha)

    def observe(event: Any) -> None:
        progress("sim_event", event=event)

    teacher = prepared.colearner.teacher() if prepared.colearner is not None else None
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
        teacher=_telling(teacher, progress) if teacher is not None else None,
    )
    sim_wall = time.perf_counter() - start
    progress("simulated", seconds=sim_wall)
    run = replace(prepared, learning=learning_of(prepared, result)) if teacher is not None else prepared
    evaluation = evaluate_survivors(run, result, progress=progress)
    results = assemble_results(run, result, alpha, evaluation, sim_wall)
    if teacher is not None:
        from sim.experiment import cosim

        results["reuse"] = cosim.reuse_section(teacher, result)
        results.update(cosim.reuse_metrics(results["reuse"]))
    results["incidents"] = incidents.summarise(result.recorder.incidents)  # all of them: events.csv
    results["accounting"] = accounting.accounting(prepared.workload, results)
    if sc.evaluation is not None and run.learning is not None:  # after the final evaluation, which it reuses
        from sim.experiment import checkpoints

        try:
            results["accuracy_over_time"] = checkpoints.accuracy_over_time(run.learning, sc, result, progress=progress)
            results["accuracy_auc"] = results["accuracy_over_time"]["auc"]
        except ScenarioError as err:  # an every_s too fine for this run's makespan: keep the run's results
            progress("warning", message=f"{err}; the results are written without accuracy_over_time")
    return results, result


def _telling(teacher: Teacher, progress: Progress) -> Teacher:
    """`teacher`, telling `progress` of each lesson as it is asked for and when it is answered: a
    lesson that finds matches learns a head (seconds) while the simulated clock stands still."""
    def ask(agent: int, task: int, bank: frozenset[int]) -> Lesson:
        progress("lesson_started", agent=agent, task=task, bank=len(bank))
        lesson = teacher(agent, task, bank)
        progress("lesson_done", agent=agent, task=task)
        return lesson

    return ask


def learning_of(prepared: Prepared, result: SimResult) -> Learning | None:
    """What `result`'s run learned: every task's package as learned in that run (co-simulation:
    from its agent's bank when it started; else the up-front learning). The one lookup for
    evaluations and bank lookups; None for a synthetic workload."""
    if prepared.colearner is None:
        return prepared.learning
    from sim.experiment import cosim

    return cosim.learning_of_run(prepared.colearner, prepared.learning, result)


def evaluate_survivors(prepared: Prepared, result: SimResult, *, progress: Progress = _quiet) -> dict[int, Any]:
    """Every alive agent's evaluation with no task oracle (sim.experiment.learned); none for a
    synthetic workload, which has no models to evaluate."""
    if prepared.learning is None:
        return {}
    from sim.experiment import learned

    banks = {a: frozenset(result.bank(a)) for a in range(prepared.scenario.agents.count) if result.alive[a]}
    return learned.evaluate_survivors(prepared.learning, prepared.scenario, banks, progress=progress)


def assemble_results(
    prepared: Prepared, result: SimResult, alpha: float, evaluation: dict[int, Any], sim_wall: float
) -> dict[str, Any]:
    """The results.json contract: headline metrics, learning costs and one entry per agent."""
    sc = prepared.scenario
    m = result.metrics.to_dict()
    survivors = list(evaluation.values())

    def mean(attr: str) -> float | None:
        return float(np.mean([getattr(e, attr) for e in survivors])) if survivors else None

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
    never = shortfall.never_reached(sc.gossip.protocol, sum(m["alive"]), m["pairs_missing"], m["wiped_survivors"])
    return {
        "scenario": sc.name,
        "seed": sc.seed,
        "agents": sc.agents.count,
        "tasks": prepared.workload.num_tasks,
        "workload": "learned" if prepared.learning is not None else sc.workload.kind,
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
        **({} if prepared.learning is not None else {"evaluation": EVALUATION_SKIPPED}),
        "speedup_bound": None if never else speedup_bound(prepared, m["single_agent_s"], m["tasks_lost"]),
        "speedup_bound_never": never is not None,
        "tasks_lost": len(m["tasks_lost"]),
        "tasks_lost_ids": m["tasks_lost"],
        "tasks_lost_by_cause": {cause: len(ids) for cause, ids in m["tasks_lost_by_cause"].items()},
        "tasks_lost_ids_by_cause": m["tasks_lost_by_cause"],
        "coverage_final": m["coverage_final"],
        "pairs_missing": m["pairs_missing"],
        "never_reached": never,
        "timing": sc.timing,
        **({"wall_timing": wall_timing.summary(prepared.learning.learned, prepared.learning.fresh,
                                               prepared.learning.extracted)}
           if sc.timing == "wall" else {}),
        "learning": _learning_section(prepared),
        "simulation": {
            "wall_s": sim_wall,
            "engine": result.engine,
            **{k: v for k, v in m.items() if k not in _HEADLINE},
            "coverage": thin(m["coverage"], 2000),
        },
        "per_agent": per_agent,
        "per_task_accuracy": _per_task(survivors),
    }


def _learning_section(prepared: Prepared) -> dict[str, Any]:
    """results.json's `learning`: what learning cost and produced; for a synthetic workload, the
    given costs (one phase, "given"), no wall time, no backbone."""
    if prepared.learning is not None:
        from sim.experiment import learned

        return learned.learning_section(prepared.learning)
    sizes = prepared.workload.column("nbytes")
    return {
        "macs_by_phase": {"given": int(prepared.workload.column("macs").sum())},
        "package_bytes_mean": float(sizes.mean()) if len(sizes) else 0.0,
        "package_bytes_total": int(sizes.sum()),
        "wall_s": 0.0,
        "cached_tasks": 0,
        "backbone": None,
        "feature_dim": None,
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


def speedup_bound(prepared: Prepared, single_agent_s: float | None, lost: list[int]) -> float | None:
    """The speedup with free communication, for the survivors: single-agent time over the latest
    moment an owner can finish a task that survives (its own learning up to and including it).

    Tasks differ in size, so even at alpha -> 0 the slowest agent sets the makespan; this is the
    ceiling a sweep approaches at small alpha (N only if every agent's work were equal). A lost
    task sets no deadline, as the makespan counts only surviving tasks. A run whose makespan is
    never reached has no bound (assemble_results writes null and speedup_bound_never).
    """
    rates = prepared.scenario.agents.rates()
    timing = prepared.scenario.timing
    gone = set(lost)
    worst = 0.0
    for owner, tasks in prepared.workload.by_owner().items():
        elapsed = 0.0
        for task in tasks:
            elapsed += task.seconds(rates[owner], timing)
            if task.task_id not in gone:
                worst = max(worst, elapsed)
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
