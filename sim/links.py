"""The link table both engines read (per link direction its endpoints, bandwidth, latency and loss)
and the NIC caps of every agent (the SimPy engine's only: compiled loops run without NIC limits)."""

from __future__ import annotations

import numbers

import networkx as nx
import numpy as np

from sim.config import NetworkConfig
from sim.errors import SimError
from topologies.links import draw_link_values


def link_table(graph: nx.Graph, config: NetworkConfig, rates: np.ndarray, alpha: float) -> dict:
    """Per link direction: endpoints, bandwidth, latency and loss, validated."""
    src, dst, bw, lat, loss = [], [], [], [], []
    for u, v, attrs in sorted(graph.edges(data=True)):
        if config.mode == "alpha":
            bandwidth = min(rates[u], rates[v]) / alpha
        else:
            bandwidth = attrs.get("bandwidth")
            if bandwidth is None:
                raise SimError(f"edge ({u}, {v}) has no 'bandwidth'; use topologies.links.assign_links or mode='alpha'")
        latency = attrs.get("latency", 0.0)
        p = attrs.get("loss", 0.0)
        if not bandwidth > 0:
            raise SimError(f"edge ({u}, {v}) bandwidth must be > 0 bytes/s, got {bandwidth!r}")
        if not latency >= 0:
            raise SimError(f"edge ({u}, {v}) latency must be >= 0 s, got {latency!r}")
        if not 0 <= p < 1:
            raise SimError(f"edge ({u}, {v}) loss must be in [0, 1), got {p!r}")
        for a, b in ((u, v), (v, u)):
            src.append(a), dst.append(b), bw.append(bandwidth), lat.append(latency), loss.append(p)
    return {"src": np.array(src, dtype=np.int64), "dst": np.array(dst, dtype=np.int64),
            "bandwidth": np.array(bw, dtype=np.float64), "latency": np.array(lat, dtype=np.float64),
            "loss": np.array(loss, dtype=np.float64)}


NIC_ATTRS = ("uplink", "downlink")


def nic_caps(graph: nx.Graph, config: NetworkConfig, alpha: float, seed: int) -> dict[str, np.ndarray]:
    """Per agent its uplink and downlink capacity in bytes/s (inf: no limit). A node attribute
    (GraphML, or an agents.overrides entry) wins over the network's default, which may be a
    seeded distribution (drawn per agent, one generator per attribute); in alpha mode every cap
    is divided by alpha, as link bandwidths are."""
    n = graph.number_of_nodes()
    caps = {}
    for k, name in enumerate(NIC_ATTRS):
        spec = getattr(config, name)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3, k)))
        drawn = draw_link_values("bandwidth", spec, n, rng) if spec is not None else [np.inf] * n
        values = np.array(drawn, dtype=np.float64)
        for v, value in check_nic_attrs(graph).get(name, {}).items():
            values[v] = value
        if config.mode == "alpha":
            values = values / alpha
        caps[name] = values
    return caps


def check_nic_attrs(graph: nx.Graph) -> dict[str, dict[int, float]]:
    """The agents' own NIC caps (node attributes `uplink` / `downlink`), validated: finite, > 0."""
    caps: dict[str, dict[int, float]] = {name: {} for name in NIC_ATTRS}
    for v, attrs in graph.nodes(data=True):
        for name in NIC_ATTRS:
            value = attrs.get(name)
            if value is None:
                continue
            ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and 0 < value < np.inf
            if not ok:
                raise SimError(f"agent {v} {name}={value!r} is invalid: a NIC cap must be a finite number "
                               "> 0 bytes/s (or absent: the network's default)")
            caps[name][v] = float(value)
    return caps
