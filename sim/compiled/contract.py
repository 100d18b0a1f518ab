"""What a compiled loop takes and gives: plain arrays with names, nothing of SimPy or numba."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LoopInput:
    """One run, as the loops read it. Directions are link_table's (both directions of a link next
    to each other); publishes are every learned task, sorted by time, then agent."""

    n_agents: int
    n_tasks: int
    out_ptr: np.ndarray  # (agents + 1,) each agent's outgoing directions: out_dir[out_ptr[a]:out_ptr[a + 1]]
    out_dir: np.ndarray  # directions grouped by sender, in direction order
    src: np.ndarray  # (directions,) sender of each direction
    dst: np.ndarray  # (directions,) receiver
    bandwidth: np.ndarray  # (directions,) bytes/s
    latency: np.ndarray  # (directions,) s
    sizes: np.ndarray  # (tasks,) package bytes, float64
    student: np.ndarray  # (tasks,) MACs to merge each package
    rates: np.ndarray  # (agents,) MACs/s
    pub_t: np.ndarray  # publish times
    pub_agent: np.ndarray
    pub_task: np.ndarray
    gossip: object  # the protocol's validated settings (sim.config)
    seed: int
    keep_items: bool  # also return which packages each flow carried
    # First rows of the loops' growable tables (flows, blocks, items; push_pull: capacity / 16
    # digests in flight); None: each loop's own choice (flood reserves the most a run can fill and
    # never grows; push_pull starts at 1024). Results never depend on it: tests start at 1 so every
    # growth path runs.
    capacity: int | None = None


@dataclass(frozen=True)
class LoopOutput:
    """A finished run: banks, merge times, counts and every flow (the recorder's rows)."""

    held: np.ndarray  # (agents x tasks) bool
    known_at: np.ndarray  # (agents x tasks) merge time, inf where not held (any memory layout)
    student_macs: float
    events: int  # heap events the loop processed
    flow_start: np.ndarray
    flow_end: np.ndarray
    flow_dir: np.ndarray
    flow_bytes: np.ndarray
    flow_items: np.ndarray  # items each flow carried
    item_flow: np.ndarray  # with keep_items: each item's flow ...
    item_package: np.ndarray  # ... and package id (empty without keep_items)
    dir_bytes: np.ndarray  # (directions,) bytes each direction carried
