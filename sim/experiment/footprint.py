"""What a run will hold in memory, estimated from its scenario alone, and what the machine has free.

The big arrays of a run grow with agents x tasks (merge times, banks, the engine's copies), with the
graph (networkx keeps a dict per node and per edge, links' attributes included) and with per-agent
state (the engine's processes and banks); images and packages grow with tasks only and stay small
next to them. The per-item figures were measured on CPython 3.12 (RSS growth building a 200,000-node
ring, 700 B per node and edge, and a 50,000-node small world with k = 6, 1,500 B per node, both with
link attributes; a 600-agent flood run on a ring with one task per agent: 74 B per agent-task
pair), rounded up: an estimate to refuse the hopeless, not a prediction.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BYTES_PER_PAIR = 80  # per (agent, task): merge time, bank, engine copies, the transfer that brought it
BYTES_PER_NODE = 300  # a networkx node: its entry and adjacency dict
BYTES_PER_EDGE = 450  # a networkx edge: two adjacency entries and its attribute dict
BYTES_PER_AGENT = 4096  # the engine's per-agent processes, inbox and bank


@dataclass(frozen=True)
class Footprint:
    """Estimated bytes of a run's big arrays, by part."""

    pairs: float  # agents x tasks tables
    graph: float  # nodes and edges with their attributes
    agents: float  # per-agent engine state

    @property
    def total(self) -> float:
        """All parts together."""
        return self.pairs + self.graph + self.agents


def mean_degree(family: str, n: int, params: dict[str, Any], defaults: dict[str, Any]) -> float:
    """A family's mean degree at n nodes, from its parameters (k, d, m or p) where it has them."""
    p = {**defaults, **params}
    if family == "full":
        return float(n - 1)
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
    if family == "erdos_renyi" and number(p.get("p")):
        return float(p["p"]) * (n - 1)
    for key, factor in (("k", 1), ("d", 1), ("m", 2)):
        if number(p.get(key)):
            return min(float(factor * p[key]), n - 1.0)
    sparse = {"ring": 2.0, "line": 2.0, "star": 2.0, "tree": 2.0}  # about n edges
    return min(sparse.get(family, 4.0), n - 1.0)  # grids and tori: 4; an unknown family: 4


def estimate(agents: int, tasks: int, edges: float) -> Footprint:
    """The footprint of a run of `agents` agents, `tasks` tasks and `edges` links."""
    return Footprint(
        pairs=float(agents) * tasks * BYTES_PER_PAIR,
        graph=float(agents) * BYTES_PER_NODE + edges * BYTES_PER_EDGE,
        agents=float(agents) * BYTES_PER_AGENT,
    )


def available_memory() -> float | None:
    """Bytes this process can still use: MemAvailable, capped by a cgroup limit; None if unknown."""
    free: float | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free = float(line.split()[1]) * 1024
    except OSError:
        pass
    if free is None:
        try:
            free = float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        if limit.isdigit() and used.isdigit():
            free = min(free, max(0.0, float(limit) - float(used)))
    except OSError:
        pass
    return free


def human(nbytes: float) -> str:
    """Bytes as a short figure: 512 B, 3.2 MB, 14.1 GB."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if nbytes < 1000 or unit == "TB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1000
    raise AssertionError("unreachable")
