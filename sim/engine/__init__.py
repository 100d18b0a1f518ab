"""The SimPy engine: the reference semantics of a run (agents' processes, network, banks,
protocols, failures). `run` plays one run to its end; sim.simulate picks it or a compiled loop."""

from __future__ import annotations

import networkx as nx
import numpy as np

from sim.config import FailuresConfig, GossipConfig, NetworkConfig
from sim.engine.core import Engine
from sim.engine.failures import start_failures
from sim.errors import SimError
from sim.metrics import RunState
from sim.recorder import Recorder
from sim.teacher import Teacher
from sim.workload import Workload

__all__ = ["Engine", "run"]


def run(graph: nx.Graph, workload: Workload, rates: np.ndarray, network: NetworkConfig, gossip: GossipConfig,
        failures: FailuresConfig, seed: int, alpha: float, timing: str, recorder: Recorder,
        teacher: Teacher | None = None) -> RunState:
    """Run the SimPy engine until no event is left; return the run's state for compute_metrics.
    `teacher`: co-simulation (sim.teacher), asked for each task as its agent starts it."""
    engine = Engine(graph, workload, rates, network, gossip, seed, alpha, timing, recorder)
    if teacher is not None:
        engine.teacher, engine.lessons = teacher, []
    start_failures(engine, failures)
    engine.start()
    engine.env.run_all()
    for agent in range(engine.n_agents):  # arrivals after the last event need no action
        engine.catch_up(agent, until=np.inf)
    if engine.network.busy():
        raise SimError("internal: traffic was queued after the last event; please report this run")
    state = engine.run_state()
    state.lessons = list(engine.lessons)
    return state
