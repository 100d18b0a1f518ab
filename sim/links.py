"""The link table both engines read: per link direction its endpoints, bandwidth, latency and loss."""

from __future__ import annotations

import networkx as nx
import numpy as np

from sim.config import NetworkConfig
from sim.errors import SimError


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
