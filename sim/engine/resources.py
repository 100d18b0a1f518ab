"""The resources flows share: link directions, the agents' uplinks and downlinks, which are exclusive."""

from __future__ import annotations

import numpy as np

from sim.config import NetworkConfig
from sim.errors import SimError


def resources(bandwidth: np.ndarray, src: list[int], dst: list[int], n_agents: int, config: NetworkConfig,
              nics: dict | None) -> tuple[np.ndarray, np.ndarray, list[tuple[int, ...]], bool]:
    """Capacity and exclusivity of every resource (link direction d, uplink D+u, downlink D+N+v),
    the resources a flow on each direction crosses (only those that can bind), and whether every
    flow crosses its direction alone. `nics`: per agent "uplink" and "downlink" in bytes/s (inf:
    none; sim.links.nic_caps), by default the config's caps, which must then be numbers."""
    n_dirs = len(src)
    if nics is None:
        if isinstance(config.uplink, dict) or isinstance(config.downlink, dict):
            raise SimError("internal: drawn NIC caps need sim.links.nic_caps; pass them as `nics`")
        nics = {"uplink": np.full(n_agents, config.uplink or np.inf),
                "downlink": np.full(n_agents, config.downlink or np.inf)}
    up_cap, down_cap = np.asarray(nics["uplink"], dtype=np.float64), np.asarray(nics["downlink"], dtype=np.float64)
    capacity = np.concatenate([bandwidth, up_cap, down_cap])
    up_limited, down_limited = np.isfinite(up_cap), np.isfinite(down_cap)
    fifo = config.sharing == "fifo"
    exclusive = np.zeros(len(capacity), dtype=bool)
    exclusive[:n_dirs] = fifo
    exclusive[n_dirs:n_dirs + n_agents] = fifo & up_limited
    exclusive[n_dirs + n_agents:] = config.serial_receive | (fifo & down_limited)
    plain = not up_limited.any() and not down_limited.any() and not exclusive.any()
    # the resources a flow on each direction crosses (only the ones that can bind)
    down_on = exclusive[n_dirs + n_agents:] | down_limited
    res_of = []
    for d, (u, v) in enumerate(zip(src, dst)):
        res = [d]
        if up_limited[u]:
            res.append(n_dirs + u)
        if down_on[v]:
            res.append(n_dirs + n_agents + v)
        res_of.append(tuple(res))
    return capacity, exclusive, res_of, plain
