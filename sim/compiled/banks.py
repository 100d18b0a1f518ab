"""The flood loop's banks and merge times in one table (numba): a row per package, a cell per agent.

A cell is +inf while no copy of the package is on its way to the agent, then the earliest arrival
of a copy on its way (a later copy changes nothing and is not queued), then, once the agent banks
the package, its merge time negated: the sign bit says "banked". Checking where a package goes
next (held? an earlier copy on its way?) then reads one cell, one cache line, where a separate
bitset of banks cost a second line per receiver at N = 5000. Rows are packages because a package's
arrivals and relays touch an agent and its neighbours, close indices on rings and small worlds;
the output is by agent: `settle` reads the banks out in tiles, and the merge times are the table's
transposed view.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.compiled.memory import reserve


@njit(cache=True, inline="always", error_model="numpy")
def has(banked: np.ndarray, v: int, p: int) -> bool:
    """Does agent v hold package p? (`banked`: the table's int64 view; banked cells are negative.)"""
    return banked[p, v] < 0


@njit(cache=True, inline="always", error_model="numpy")
def add(known_at: np.ndarray, v: int, p: int, done: float) -> None:
    """Agent v now holds package p, merged at `done` (>= 0: the sign bit marks it banked)."""
    known_at[p, v] = -done


def reserved_table(n_agents: int, n_tasks: int) -> np.ndarray:
    """The table for n_agents and n_tasks (400 MB at N = 5000), a mapping on huge pages where the
    system grants one (an ordinary array where not), its cells unset until `clear` sets them: a
    separate step, which a helper thread overlaps (sim/compiled/prefault.py)."""
    return reserve(n_tasks, n_agents, np.float64, fallback_rows=n_tasks, lazy=False)[:n_tasks]  # (0 tasks: 0 rows)


@njit(cache=True, error_model="numpy", nogil=True)
def clear(known_at: np.ndarray) -> None:
    """Every cell +inf: no copy on its way anywhere (without the GIL: sim/compiled/prefault.py)."""
    known_at[:] = np.inf


@njit(cache=True, error_model="numpy")
def settle(known_at):
    """Turn the finished table into merge times in place (a banked cell's sign flipped back; the
    rest, +inf or a copy's arrival, kept) and return the banks by agent (agents x tasks, bool),
    read in 64 x 64 tiles. The merge times by agent are then `known_at.T`, a view: the 400 MB
    transposing copy at N = 5000 took fresh pages, which cost more on a VM than the copy."""
    n_tasks, n_agents = known_at.shape
    banked = known_at.view(np.int64)
    held = np.zeros((n_agents, n_tasks), dtype=np.bool_)
    for p0 in range(0, n_tasks, 64):
        for v0 in range(0, n_agents, 64):
            for v in range(v0, min(v0 + 64, n_agents)):
                for p in range(p0, min(p0 + 64, n_tasks)):
                    if has(banked, v, p):
                        held[v, p] = True
                        known_at[p, v] = -known_at[p, v]
    return held
