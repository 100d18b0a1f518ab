"""Run one simulation: check the inputs, pick the engine (SimPy, or the compiled loop where it gives
the same answer), run it to the end and derive the metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Sequence

import networkx as nx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim import engine as simpy_engine
from sim.compiled import pick, run_compiled
from sim.config import FailuresConfig, FloodConfig, GossipConfig, NetworkConfig
from sim.errors import ScenarioError, SimError
from sim.metrics import Metrics, compute_metrics
from sim.recorder import Event, Recorder
from sim.schema_errors import format_errors
from sim.teacher import WHY_SIMPY, Teacher
from sim.workload import Workload


@dataclass
class SimResult:
    """Everything a run produced: logs, final banks, survivors and derived metrics."""

    recorder: Recorder
    known_at: np.ndarray  # (agents x tasks) time each held package was merged; inf if not held
    held: np.ndarray  # (agents x tasks) bool: final banks
    alive: np.ndarray  # (agents,) bool: who is alive at the end
    metrics: Metrics
    removed: list[tuple[float, int, int, float]]  # bank wipes: (time, agent, task, banked at)
    engine: str = "simpy"  # the engine that ran: "simpy" or "compiled"
    # Co-simulation (sim.teacher): each lesson asked for, (start time, agent, task, package key)
    lessons: list[tuple[float, int, int, str]] = field(default_factory=list)

    def bank(self, agent: int) -> list[int]:
        """Task ids in an agent's final bank."""
        return np.flatnonzero(self.held[agent]).tolist()

    def bank_changes(self) -> list[tuple[float, int, int, int]]:
        """Every bank change as (time, agent, task, +1 added / -1 removed), in time order."""
        agents, tasks = np.nonzero(np.isfinite(self.known_at))
        rows = [(float(self.known_at[a, t]), int(a), int(t), 1) for a, t in zip(agents, tasks)]
        for now, agent, task, banked in self.removed:
            rows += [(banked, agent, task, 1), (now, agent, task, -1)]
        return sorted(rows)


def validate(graph: nx.Graph, workload: Workload, rates: Sequence[float], alpha: float, timing: str) -> np.ndarray:
    """Check inputs; return rates as an array. Errors name the field and the fix."""
    n = graph.number_of_nodes()
    if sorted(graph.nodes) != list(range(n)):
        raise SimError("graph nodes must be 0..n-1; relabel with nx.convert_node_labels_to_integers")
    if n < 1:
        raise SimError("graph has no agents; build one with at least 1 node")
    rates = np.asarray(rates, dtype=np.float64)
    if rates.shape != (n,):
        raise SimError(f"rates has {rates.size} values but the graph has {n} agents; give one rate per agent")
    if not (rates > 0).all():
        raise SimError(f"rates must be > 0 MACs/s, got {rates[~(rates > 0)][:5].tolist()}")
    if not alpha > 0:
        raise SimError(f"alpha must be > 0 MACs per byte, got {alpha!r}")
    if timing not in ("macs", "wall"):
        raise SimError(f"timing must be 'macs' or 'wall', got {timing!r}")
    for task in workload.tasks:
        if not 0 <= task.owner < n:
            raise SimError(f"task {task.task_id} owner {task.owner} is not an agent (0..{n - 1})")
    isolated = [v for v, d in graph.degree() if d == 0]
    if isolated and n > 1:
        raise SimError(f"agents {isolated[:10]} have no links; every agent needs a neighbour")
    return rates


class Settings(BaseModel):
    """The sections `simulate` takes, under a scenario's names, so that a bad one is reported as the
    command line reports it in a scenario file (sim.schema_errors: field path, value, what is allowed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    network: NetworkConfig = NetworkConfig()
    gossip: GossipConfig = Field(default_factory=FloodConfig)
    failures: FailuresConfig = FailuresConfig()


def settings(network: Any = None, gossip: Any = None, failures: Any = None) -> Settings:
    """Validated sections from configs, dicts of their fields or None (the defaults); ScenarioError
    (a SimError) with one line per problem, as `skill-sim validate` prints them."""
    raw = {k: v for k, v in (("network", network), ("gossip", gossip), ("failures", failures)) if v is not None}
    try:
        return Settings.model_validate(raw)
    except ValidationError as err:
        lines = format_errors(err.errors(), raw, Settings)
        raise ScenarioError("simulate(): invalid settings:\n  " + "\n  ".join(lines)) from None


def simulate(graph: nx.Graph, workload: Workload, *, rates: Sequence[float],
             network: NetworkConfig | dict | None = None, gossip: GossipConfig | dict | None = None,
             failures: FailuresConfig | dict | None = None, seed: int = 0, alpha: float = 1000.0,
             timing: Literal["macs", "wall"] = "macs", observer: Callable[[Event], None] | None = None,
             record_packages: bool = True, engine: Literal["auto", "simpy", "compiled"] = "auto",
             teacher: Teacher | None = None) -> SimResult:
    """Run one simulation to the end (no event left) and derive its metrics.

    `network`, `gossip` and `failures` take the configs or plain dicts of their fields (as in a
    scenario's sections); the defaults are explicit link bandwidths, flood and no failures.

    `engine`: "auto" takes a compiled loop (sim/compiled/) where it gives the SimPy engine's answer
    (flood, broadcast or push_pull over independent links, no loss, no failure; see
    sim.compiled.supports) and the run is not tiny, the SimPy engine (sim/engine/) elsewhere;
    "simpy" or "compiled" force one (compiled fails where it does not apply).

    `teacher`: co-simulation (sim.teacher, knowledge reuse): each task is learned when its agent
    starts it, from its bank then; only the SimPy engine can ask, so it runs ("compiled" fails).
    """
    given = settings(network, gossip, failures)
    network, gossip, failures = given.network, given.gossip, given.failures
    rates = validate(graph, workload, rates, alpha, timing)
    gossip.check_graph(graph)
    recorder = Recorder(observer, packages=record_packages)
    if engine not in ("auto", "simpy", "compiled"):
        raise SimError(f"engine must be 'auto', 'simpy' or 'compiled', got {engine!r}")
    chosen, reason = pick(graph, workload, network, gossip, failures, engine)
    if teacher is not None:
        chosen, reason = "simpy", WHY_SIMPY
    if engine == "compiled" and chosen != "compiled":
        raise SimError(f"engine='compiled' does not model this run ({reason}); use engine='auto' or 'simpy'")
    if chosen == "compiled":
        state = run_compiled(graph, workload, rates, network, alpha, timing, gossip, seed, recorder)
        if state.transfers == 0 and graph.number_of_nodes() > 1 and workload.num_tasks:
            raise SimError("internal: the compiled loop sent nothing; please report this run")
    else:
        state = simpy_engine.run(graph, workload, rates, network, gossip, failures, seed, alpha, timing, recorder,
                                 teacher)
    metrics = compute_metrics(state, alpha)
    return SimResult(recorder, state.known_at, state.held, state.alive.copy(), metrics, state.removed, chosen,
                     list(state.lessons))
