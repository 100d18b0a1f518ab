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
from sim.workload import Workload

__all__ = ["Engine", "run"]


def run(graph: nx.Graph, workload: Workload, rates: np.ndarray, network: NetworkConfig, gossip: GossipConfig,
        failures: FailuresConfig, seed: int, alpha: float, timing: str, recorder: Recorder) -> RunState:
    """Run the SimPy engine until no event is left; return the run's state for compute_metrics."""
    engine = Engine(graph, workload, rates, network, gossip, seed, alpha, timing, recorder)
    start_failures(engine, failures)
    engine.start()
    engine.env.run_all()
    for agent in range(engine.n_agents):  # arrivals after the last event need no action
        engine.catch_up(agent, until=np.inf)
    if engine.network.busy():
        raise SimError("internal: traffic was queued after the last event; please report this run")
    return engine.run_state()
