"""Every check of a scenario that needs more than its schema, in one place, run before any learning.

`validate`, `run` and `sweep` all call `check_scenario` right after loading, so a scenario that
validates is one that runs. The checks are cheap: the task count of a suite comes from its
settings (or, for a folder suite, from listing its folders), never from its images; the graph is
built, as the run builds it, with no backbone loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx

from agents.errors import DataError
from agents.features import default_cache_root
from sim.errors import ScenarioError, SimError
from sim.experiment import checks_env, footprint
from sim.experiment.scenario import Explicit, LinksSection, Scenario
from sim.experiment.topology import build_topology
from topologies.errors import TopologyError
from topologies.registry import family_params

def check_scenario(scenario: Scenario, *, source: str, out: Path | None = None,
                   cache: Path | None = None) -> list[str]:
    """Run every check beyond the schema; return warnings, raise ScenarioError naming field and fix.

    `out` and `cache` are the folders the command will write (None: not written, or the default).
    """
    checks_env.check_out(out)
    checks_env.check_folder(cache if cache is not None else default_cache_root(), "--cache / $SKILL_SIM_CACHE")
    if scenario.workload is not None:  # nothing is learned: no suite, backbone or device to check
        num_tasks = scenario.workload.num_tasks
        _check_owners(scenario, source)
        _check_memory(scenario, num_tasks, source)
        warnings = [] if isinstance(scenario.workload.tasks, list) else _check_assignment(scenario, num_tasks, source)
    else:
        try:
            num_tasks = suite_task_count(scenario)
        except DataError as exc:
            raise ScenarioError(f"{source}: tasks: {exc}") from None
        _check_weights(scenario, source)
        checks_env.check_backbone(scenario, source)
        checks_env.check_device(scenario, source)
        checks_env.check_exemplars(scenario, source)
        _check_memory(scenario, num_tasks, source)
        warnings = _check_assignment(scenario, num_tasks, source)
        warnings += checks_env.check_clipping(scenario)
        warnings += checks_env.check_folder_files(scenario)
    try:
        graph = build_topology(scenario)
    except TopologyError as exc:
        raise ScenarioError(f"{source}: topology: {exc}") from None
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    warnings += _check_graph(scenario, graph, source)
    warnings += _check_bandwidth(scenario)
    _check_failures(scenario, graph, source)
    _check_engine(scenario, graph, source)
    _check_reuse(scenario, source)
    return warnings


def suite_task_count(scenario: Scenario) -> int:
    """How many tasks the scenario's suite will build (each suite registers its own cheap count);
    DataError, as the suite's own build would raise it, when the suite cannot build them."""
    from agents.suites.registry import count_tasks

    return count_tasks(scenario.tasks)


def _check_owners(scenario: Scenario, source: str) -> None:
    """An explicit synthetic task list names agents that exist."""
    n = scenario.agents.count
    tasks = scenario.workload.tasks
    for i, task in enumerate(tasks if isinstance(tasks, list) else []):
        if task.owner >= n:
            raise ScenarioError(f"{source}: workload.tasks[{i}].owner = {task.owner}: not an agent (0..{n - 1}); "
                                "name an existing agent or raise agents.count")


def _check_weights(scenario: Scenario, source: str) -> None:
    weights = scenario.learner.backbone.weights
    if weights not in ("offline", "pretrained", "random") and not Path(weights).expanduser().is_file():
        raise ScenarioError(
            f"{source}: learner.backbone.weights = {weights[:80]!r}: neither 'offline', 'pretrained', "
            "'random' nor an existing checkpoint file; fix the path or choose one of those"
        )


def _check_memory(scenario: Scenario, num_tasks: int, source: str) -> None:
    """Refuse a run whose big arrays alone would not fit in the memory this machine has free."""
    n = scenario.agents.count
    topo = scenario.topology
    defaults = {} if topo.family == "file" else family_params(topo.family)
    edges = n * footprint.mean_degree(topo.family, n, topo.params, defaults) / 2
    need = footprint.estimate(n, max(num_tasks, 1), edges)
    free = footprint.available_memory()
    if free is not None and need.total > free:
        raise ScenarioError(
            f"{source}: agents.count = {n} with {num_tasks} tasks needs about {footprint.human(need.total)} "
            f"(agents x tasks tables {footprint.human(need.pairs)}, graph {footprint.human(need.graph)}, "
            f"agents' state {footprint.human(need.agents)}), more than the {footprint.human(free)} this "
            f"machine has free; lower agents.count or {_count_field(scenario)}"
        )


def _check_assignment(scenario: Scenario, num_tasks: int, source: str) -> list[str]:
    """An explicit assignment names every task once and nothing else; warn about idle agents."""
    n = scenario.agents.count
    rule = scenario.agents.assignment
    if not isinstance(rule, Explicit):
        if num_tasks < n:
            idle = f"agent {num_tasks}" if num_tasks == n - 1 else f"agents {num_tasks}..{n - 1}"
            return [f"{num_tasks} tasks for {n} agents: {idle} learn{'s' if num_tasks == n - 1 else ''} nothing"]
        return []
    seen: dict[int, int] = {}
    for agent, tasks in enumerate(rule.tasks):
        for t in tasks:
            if not 0 <= t < num_tasks:
                raise ScenarioError(
                    f"{source}: agents.assignment.tasks[{agent}] names task {t}, but the tasks are "
                    f"0..{num_tasks - 1}; name existing tasks or raise {_count_field(scenario)}"
                )
            if t in seen and seen[t] == agent:
                raise ScenarioError(
                    f"{source}: agents.assignment.tasks[{agent}] lists task {t} twice; list each task once"
                )
            if t in seen:
                raise ScenarioError(
                    f"{source}: agents.assignment.tasks: task {t} is given to agent {seen[t]} and to agent "
                    f"{agent}; give each task to one agent"
                )
            seen[t] = agent
    missing = [t for t in range(num_tasks) if t not in seen]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (", ..." if len(missing) > 10 else "")
        raise ScenarioError(
            f"{source}: agents.assignment.tasks leaves {len(missing)} of the {_whose(scenario)} {num_tasks} tasks to no "
            f"agent ({shown}); give each to an agent, or set {_count_field(scenario)} to the tasks you assign"
        )
    return []


def _whose(scenario: Scenario) -> str:
    """Where the tasks come from, in a message: the suite's, or the workload's."""
    return "suite's" if scenario.workload is None else "workload's"


def _count_field(scenario: Scenario) -> str:
    """The field that sets how many tasks there are."""
    return "tasks.num_tasks" if scenario.workload is None else "workload.tasks"


def _check_graph(scenario: Scenario, graph: nx.Graph, source: str) -> list[str]:
    """Every agent has a link, the protocol can run on the graph; warn when it is not connected."""
    n = graph.number_of_nodes()
    if sorted(graph.nodes) != list(range(n)):
        raise ScenarioError(f"{source}: topology: nodes must be 0..{n - 1}; relabel the file's nodes")
    isolated = [v for v, d in graph.degree() if d == 0]
    if isolated and n > 1:
        raise ScenarioError(
            f"{source}: topology: agents {isolated[:10]} have no links; every agent needs a neighbour"
        )
    try:
        scenario.gossip.check_graph(graph)
    except SimError as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    if n > 1 and not nx.is_connected(graph):
        parts = sorted((len(c) for c in nx.connected_components(graph)), reverse=True)
        return [
            f"topology: the graph falls into {len(parts)} parts (sizes {parts[:5]}"
            f"{', ...' if len(parts) > 5 else ''}): no task crosses from one to another, so full "
            "knowledge is never reached"
        ]
    return []


def _check_bandwidth(scenario: Scenario) -> list[str]:
    """Warn when links set a bandwidth that alpha mode ignores (transfer time comes from alpha)."""
    if scenario.network.mode != "alpha":
        return []
    if scenario.topology.links.bandwidth == LinksSection.model_fields["bandwidth"].default:
        return []
    return ["topology.links.bandwidth is set, but network.mode is 'alpha', where transfer time comes from "
            "alpha and bandwidth is ignored; drop it or use network.mode: explicit"]


def _check_failures(scenario: Scenario, graph: nx.Graph, source: str) -> None:
    """Failures name agents and links that exist."""
    n = graph.number_of_nodes()
    fail = scenario.failures
    for i, crash in enumerate(fail.agents.scheduled):
        if crash.agent >= n:
            raise ScenarioError(
                f"{source}: failures.agents.scheduled[{i}].agent = {crash.agent}: not an agent (0..{n - 1})"
            )
    spec = fail.agents.random
    if spec is not None and spec.agents is not None:
        bad = [a for a in spec.agents if not 0 <= a < n]
        if bad:
            raise ScenarioError(f"{source}: failures.agents.random.agents has non-agents {bad[:10]}; use 0..{n - 1}")
    named = [(f"failures.links.scheduled[{i}].edge", o.edge) for i, o in enumerate(fail.links.scheduled)]
    named += [(f"failures.partitions[{i}].edges", e) for i, p in enumerate(fail.partitions) for e in p.edges]
    for field, (u, v) in named:
        if not graph.has_edge(u, v):
            raise ScenarioError(f"{source}: {field}: edge [{u}, {v}] is not a link of the topology; name an existing link")


def _check_reuse(scenario: Scenario, source: str) -> None:
    """Knowledge reuse needs the SimPy engine and a suite that can serve its `match` (names: some class
    name in two tasks, read from the suite's plan, or from the built suite where it has none). A
    synthetic workload has no learner section."""
    if not scenario.learner.reuse.enabled:
        return
    from sim.teacher import WHY_SIMPY

    if scenario.engine == "compiled":
        raise ScenarioError(f"{source}: engine='compiled' does not model this run ({WHY_SIMPY}); use "
                            "engine='auto' or 'simpy'")
    if scenario.learner.reuse.match == "names":
        from agents.suites.registry import class_names

        try:
            classes = class_names(scenario.tasks)
        except DataError as exc:
            raise ScenarioError(f"{source}: tasks: {exc}") from None
        _check_names_can_match(scenario, classes, source)


def check_reuse_suite(scenario: Scenario, suite: Any, source: str) -> None:
    """Refuse `match: names` on a suite where no class name of one task is (threshold-)similar to one
    of another's: it could never reuse anything. Run on the built suite, before anything is learned."""
    _check_names_can_match(scenario, [t.classes for t in suite.tasks], source)


def _check_names_can_match(scenario: Scenario, classes: list[tuple[str, ...]], source: str) -> None:
    from agents.class_names import names_can_match

    reuse = scenario.learner.reuse
    if not reuse.enabled or reuse.match != "names":
        return
    if not names_can_match(classes, reuse.cutoff):
        first = _first_name_match(scenario, classes, reuse.cutoff)
        more = (f"tasks.num_tasks >= {first} (this suite's tasks first share a class name there)" if first else
                "a suite whose tasks share class names (distinct or mixed, with enough tasks)")
        raise ScenarioError(
            f"{source}: learner.reuse.match = 'names', but no class name of suite {scenario.tasks.suite!r} "
            f"({len(classes)} tasks) appears in two tasks (threshold {reuse.cutoff:g}), so names matching "
            f"can never reuse anything; use match: visual, lower learner.reuse.threshold, or {more}")


def _first_name_match(scenario: Scenario, classes: list[tuple[str, ...]], cutoff: float) -> int | None:
    """The smallest tasks.num_tasks at which this suite's names can match, where a cut-down suite is
    the first tasks of its full self (distinct, mixed): found on the full suite; None where not."""
    from agents.class_names import names_can_match
    from agents.suites.registry import class_names

    if scenario.tasks.num_tasks is None:
        return None
    try:
        full = class_names(scenario.tasks.model_copy(update={"num_tasks": None}))
    except (DataError, ValueError):
        return None
    if len(full) <= len(classes) or full[:len(classes)] != classes:
        return None
    return next((k for k in range(len(classes) + 1, len(full) + 1) if names_can_match(full[:k], cutoff)), None)


def _check_engine(scenario: Scenario, graph: nx.Graph, source: str) -> None:
    """`engine: compiled` only where a compiled loop models the run."""
    if scenario.engine != "compiled":
        return
    from sim.compiled import supports

    reason = supports(graph, scenario.network, scenario.gossip, scenario.failures)
    if reason is None and scenario.workload is None and scenario.learner.mapper.kind == "mahalanobis":
        reason = "learner.mapper.kind='mahalanobis' merges in batches, which only the SimPy engine models"
    elif reason is None and scenario.workload is not None and _batch_costs(scenario.workload):
        reason = "workload student_batch_macs: merge batches, which only the SimPy engine models"
    if reason is not None:
        raise ScenarioError(
            f"{source}: engine='compiled' does not model this run ({reason}); use engine='auto' or 'simpy'"
        )


def _batch_costs(workload: object) -> bool:
    """Whether a synthetic workload gives some package per-batch merge work."""
    if isinstance(workload.tasks, list):
        return any(t.student_batch_macs for t in workload.tasks)
    return workload.student_batch_macs != 0.0
