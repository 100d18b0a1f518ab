"""The prefault helper (sim/compiled/prefault.py): pages faulted in ahead of a loop's writes,
contents unchanged, no further than the loop's progress allows, and the same run without it."""

import dataclasses
import time

import networkx as nx
import numpy as np
import pytest

from sim.compiled import loop_input, prefault, run as run_loop
from sim.compiled.memory import reserve
from sim.compiled.prefault import AHEAD, STEP, Prefault, mapping, populate
from sim.config import FloodConfig, NetworkConfig
from sim.workload import synthetic_workload

MB = 1 << 20


def resident(table: np.ndarray) -> int:
    """Bytes of the mapping holding `table` that are in memory (/proc/self/smaps "Rss")."""
    address, inside = table.ctypes.data, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(x, 16) for x in head.split("-"))
                inside = lo <= address < hi
            elif inside and head == "Rss:":
                return int(line.split()[1]) * 1024
    raise AssertionError("no mapping holds the table")


@pytest.fixture
def table():
    """A fresh reserved table of 64 MB, skipping where this system cannot populate pages."""
    if not populate(reserve(512, 0, np.float64), 0, 4096):
        pytest.skip("no anonymous mappings or no MADV_POPULATE_WRITE here")
    t = reserve(8 * MB, 0, np.float64)
    try:
        resident(t)
    except OSError:
        pytest.skip("no /proc/self/smaps")
    return t


def test_populate_takes_the_pages_and_keeps_what_they_hold(table):
    """Populating 16 MB makes them resident; rows written before read the same, the rest zeros."""
    table[100] = 2.5
    table[3 * MB // 8] = -1.0  # 3 MB in
    populate(table, 0, 16 * MB)
    assert 16 * MB <= resident(table) <= 18 * MB  # (one huge page over, where the range ends inside one)
    assert table[100] == 2.5 and table[3 * MB // 8] == -1.0
    assert np.count_nonzero(table[:2 * MB]) == 2  # the first 16 MB: the two written cells only


def test_only_reserved_tables_from_their_start_have_a_mapping(table):
    """A reserved table and its reshapes name their mapping; a view from inside it or an ordinary
    array do not, and populating those does nothing."""
    assert mapping(table) is not None and mapping(table.reshape((-1, 8))) is not None
    assert mapping(table[8:]) is None and mapping(np.zeros(10)) is None
    assert not populate(np.zeros(1024), 0, 4096)


def wait_for(condition, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the helper did not get there"
        time.sleep(0.01)


def test_the_helper_keeps_pages_ahead_of_the_progress_and_no_further(table):
    """With 4 MB of rows filled, the helper populates the bytes past them up to twice that
    (filled + min(max(filled, STEP), AHEAD) = 8 MB); at 40 MB filled, the AHEAD bytes past them.
    It leaves alone the rows the loop has filled, which the loop wrote itself (here nobody did:
    they stay out of memory). Bounds allow a huge page more at each end of a range."""
    progress = np.zeros(1, dtype=np.int64)
    assert STEP <= 4 * MB <= AHEAD < 24 * MB
    with Prefault(progress, [(table, 0)]):
        progress[0] = 4 * MB // 8  # rows of 8 bytes
        wait_for(lambda: resident(table) >= 4 * MB)
        time.sleep(0.05)  # (time for it to go further, were it to)
        assert resident(table) <= 4 * MB + 2 * STEP
        progress[0] = 40 * MB // 8
        wait_for(lambda: resident(table) >= 4 * MB + AHEAD)
        time.sleep(0.05)
        assert resident(table) <= 4 * MB + AHEAD + 4 * STEP


def test_first_tables_are_populated_whole():
    """A table the caller is about to clear is populated whole, from its end, and still reads zeros."""
    t = reserve(4 * MB, 0, np.float64)  # 32 MB
    if not populate(t, 0, 4096):
        pytest.skip("no MADV_POPULATE_WRITE here")
    with Prefault(np.zeros(1, dtype=np.int64), [], first=[t]):
        wait_for(lambda: resident(t) >= 32 * MB)
    assert not t.any()


def test_a_flood_run_is_the_same_without_the_helper(monkeypatch):
    """The loop runs without the GIL while the helper populates its tables; with populate made to
    fail (the helper stops at once), every output is the same to the last bit."""
    graph = nx.connected_watts_strogatz_graph(60, 4, 0.2, seed=2)
    nx.set_edge_attributes(graph, 5000.0, "bandwidth")
    nx.set_edge_attributes(graph, 0.002, "latency")
    work = synthetic_workload(60, 3, macs=10**6, nbytes=900, seed=4, jitter=0.3)
    inp = loop_input(graph, work, np.full(60, 1e6), NetworkConfig(), 1.0, "macs", FloodConfig(), 0, True)
    helped = run_loop(inp)
    monkeypatch.setattr(prefault, "populate", lambda *args: False)
    alone = run_loop(inp)
    for field in dataclasses.fields(helped):
        assert np.array_equal(getattr(helped, field.name), getattr(alone, field.name)), field.name
