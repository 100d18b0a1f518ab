"""Reserved tables (sim/compiled/memory.py `reserve`): memory taken only where written, and the
fallback to ordinary growable rows where the system refuses the mapping."""

import dataclasses
import mmap

import networkx as nx
import numpy as np

from sim.compiled import loop_input, run as run_loop
from sim.compiled.memory import reserve
from sim.config import FloodConfig, NetworkConfig
from sim.workload import synthetic_workload


def test_a_reserved_table_is_zeroed_writable_and_shaped():
    """A table far larger than it will be filled reads as zeros and takes writes (4 GiB asked)."""
    table = reserve(1 << 27, 4, np.float64, 16)
    assert table.shape == (1 << 27, 4) and table.flags.writeable
    table[-1, 3] = 2.5
    assert table[0].tolist() == [0.0] * 4 and table[-1, 3] == 2.5
    vector = reserve(10, 0, np.int32, 16)
    assert vector.shape == (10,) and vector.dtype == np.int32


def refuse(*args, **kwargs):
    raise OSError(12, "Cannot allocate memory")  # as under strict overcommit


def test_where_the_mapping_is_refused_the_flood_loop_grows_its_tables_and_gives_the_same_run(monkeypatch):
    """With mmap refused, `reserve` hands back `fallback_rows` ordinary rows, the loop grows them
    (a ring of 30 agents and 90 packages sends thousands of flows, far past 1024 rows), and the
    run is the one the reserved tables give, to the last bit."""
    graph = nx.cycle_graph(30)
    nx.set_edge_attributes(graph, 1000.0, "bandwidth")
    nx.set_edge_attributes(graph, 0.01, "latency")
    work = synthetic_workload(30, 3, macs=10**6, nbytes=700, seed=1, jitter=0.3)
    inp = loop_input(graph, work, np.full(30, 1e6), NetworkConfig(), 1.0, "macs", FloodConfig(), 0, True)
    reserved = run_loop(inp)
    assert len(reserved.flow_start) > 1024
    monkeypatch.setattr(mmap, "mmap", refuse)
    assert reserve(100, 4, np.float64, 7).shape == (7, 4)
    grown = run_loop(inp)
    for field in dataclasses.fields(reserved):
        assert np.array_equal(getattr(reserved, field.name), getattr(grown, field.name)), field.name
