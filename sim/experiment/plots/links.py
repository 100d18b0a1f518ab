"""Per-link numbers the topology figures colour edges by: bandwidth and bytes sent."""

from __future__ import annotations

from typing import Any

import networkx as nx

Edge = tuple[int, int]


def edge_key(u: Any, v: Any) -> Edge:
    """An edge as (u, v) integers with u < v (GraphML node ids are strings)."""
    a, b = int(u), int(v)
    return (a, b) if a < b else (b, a)


def bytes_per_link(data: dict[str, Any]) -> dict[Edge, float] | None:
    """results.json's bytes sent on each link, both ways ("u-v" keys), or None if absent."""
    raw = data.get("simulation", {}).get("bytes_per_link")
    if raw is None:
        return None
    out: dict[Edge, float] = {}
    for key, value in raw.items():
        u, v = key.split("-")
        out[edge_key(u, v)] = float(value)
    return out


def edge_bandwidths(graph: nx.Graph, scenario: dict[str, Any] | None, alpha: float | None) -> dict[Edge, float]:
    """The bandwidth (bytes/s) each link ran at: min(rates of its ends) / alpha in alpha mode, as
    the simulator computes it (sim.links.link_table), else the edge's `bandwidth` attribute."""
    rates = _rates(scenario) if scenario and scenario.get("network", {}).get("mode") == "alpha" and alpha else None
    out: dict[Edge, float] = {}
    for u, v, attrs in graph.edges(data=True):
        e = edge_key(u, v)
        if rates is not None and max(e) < len(rates):
            out[e] = min(rates[e[0]], rates[e[1]]) / alpha
        elif attrs.get("bandwidth") is not None:
            out[e] = float(attrs["bandwidth"])
    return out


def _rates(scenario: dict[str, Any]) -> list[float] | None:
    """Every agent's MACs/s from the resolved scenario, through the schema (None if it no longer validates)."""
    from sim.experiment.scenario import AgentsSection

    try:
        return AgentsSection.model_validate(scenario.get("agents", {})).rates()
    except ValueError:
        return None
