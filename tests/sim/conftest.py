"""Shared helpers of the simulator tests, as fixtures: uniform links and a one-call run.

`--import-mode=importlib` keeps test modules from importing each other, so what several modules
need lives here (session-scoped: they are plain functions, safe to share)."""

from __future__ import annotations

import networkx as nx
import pytest

from sim import FailuresConfig, FloodConfig, NetworkConfig, simulate


def uniform_links(graph: nx.Graph, bw: float = 1e4, lat: float = 0.01, loss: float = 0.0) -> nx.Graph:
    """The graph, with the same bandwidth (bytes/s), latency (s) and loss on every edge."""
    nx.set_edge_attributes(graph, bw, "bandwidth")
    nx.set_edge_attributes(graph, lat, "latency")
    nx.set_edge_attributes(graph, loss, "loss")
    return graph


def run_sim(graph: nx.Graph, work, *, rates=10.0, gossip=None, network=None, failures=None, seed: int = 0, **kw):
    """simulate() with test defaults: one rate for every agent (or a list), flood, the default
    network, no failures (or a dict of FailuresConfig fields)."""
    n = graph.number_of_nodes()
    if isinstance(failures, dict):
        failures = FailuresConfig(**failures)
    return simulate(graph, work, rates=[rates] * n if isinstance(rates, (int, float)) else rates,
                    network=network or NetworkConfig(), gossip=gossip or FloodConfig(),
                    failures=failures or FailuresConfig(), seed=seed, **kw)


@pytest.fixture(scope="session")
def linked():
    """uniform_links(graph, bw=1e4, lat=0.01, loss=0.0)."""
    return uniform_links


@pytest.fixture(scope="session")
def sim_run():
    """run_sim(graph, work, rates=10.0, gossip=None, network=None, failures=None, seed=0, **kw)."""
    return run_sim
