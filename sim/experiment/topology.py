"""The agents' graph of a scenario, built the same way for the checks before learning and for the run."""

from __future__ import annotations

import networkx as nx
import numpy as np

from sim.errors import ScenarioError, SimError
from sim.experiment.scenario import Scenario
from sim.links import check_nic_attrs
from topologies.files import graph_from_file
from topologies.links import assign_links
from topologies.registry import build_graph


def topology_seed(scenario: Scenario) -> np.random.SeedSequence:
    """The seed of the graph and its links: the first child of the scenario's root seed."""
    return np.random.SeedSequence(scenario.seed).spawn(1)[0]


def build_topology(scenario: Scenario, seed: np.random.SeedSequence | None = None) -> nx.Graph:
    """The agents' graph with link attributes on every edge (seeded by `topology_seed` by default)."""
    topo = scenario.topology
    seed = topology_seed(scenario) if seed is None else seed
    graph_seed, link_seed = (int(s.generate_state(1)[0]) for s in seed.spawn(2))
    if topo.family == "file":
        graph = graph_from_file(topo.path)
    else:
        graph = build_graph(topo.family, scenario.agents.count, seed=graph_seed, **topo.params)
    if graph.number_of_nodes() != scenario.agents.count:
        raise ScenarioError(
            f"topology has {graph.number_of_nodes()} nodes but agents.count is {scenario.agents.count}; "
            "make them equal"
        )
    links = topo.links
    graph = assign_links(graph, links.bandwidth, links.latency, links.loss, seed=link_seed)
    for agent, caps in scenario.agents.nic_caps().items():  # agents.overrides win over the file's
        graph.nodes[agent].update(caps)
    try:
        check_nic_attrs(graph)
    except SimError as exc:
        where = f"topology.path {topo.path}: " if topo.family == "file" else ""
        raise ScenarioError(f"{where}{exc}") from None
    return graph
