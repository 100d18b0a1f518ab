"""The prefault helper (sim/compiled/prefault.py): pages faulted in ahead of a loop's writes,
contents unchanged, no further than the loop's progress allows, no thread left behind, and the
same run without it."""

import ctypes
import dataclasses
import mmap
import sys
import threading
import time

import networkx as nx
import numpy as np
import pytest
from numba import njit

from sim.compiled import loop_input, prefault, run as run_loop
from sim.compiled.flood_loop import SLICE
from sim.compiled.memory import reserve
from sim.compiled.prefault import AHEAD, STEP, Prefault, mapping, populate
from sim.config import FloodConfig, NetworkConfig
from sim.workload import synthetic_workload

MB = 1 << 20
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pages are faulted in ahead on Linux only")


def resident(table: np.ndarray) -> int:
    """Bytes of exactly the table's pages that are in memory (mincore(2)): neighbouring mappings,
    which the kernel may merge with the table's, do not count."""
    libc = ctypes.CDLL(None, use_errno=True)
    pages = -(-table.nbytes // mmap.PAGESIZE)
    vec = (ctypes.c_ubyte * pages)()
    assert table.ctypes.data % mmap.PAGESIZE == 0
    if libc.mincore(ctypes.c_void_p(table.ctypes.data), ctypes.c_size_t(table.nbytes), vec) != 0:
        raise OSError(ctypes.get_errno(), "mincore")
    return sum(v & 1 for v in vec) * mmap.PAGESIZE


@pytest.fixture
def table():
    """A fresh reserved table of 64 MB, skipping where this system cannot populate pages."""
    if not populate(reserve(512, 0, np.float64), 0, 4096):
        pytest.skip("no anonymous mappings or no MADV_POPULATE_WRITE here")
    return reserve(8 * MB, 0, np.float64)


def test_populate_takes_the_pages_and_keeps_what_they_hold(table):
    """Populating 16 MB makes them resident; rows written before read the same, the rest zeros."""
    table[100] = 2.5
    table[3 * MB // 8] = -1.0  # 3 MB in
    populate(table, 0, 16 * MB)
    assert 16 * MB <= resident(table) <= 16 * MB + STEP  # (a huge page over, where the range ends inside one)
    assert table[100] == 2.5 and table[3 * MB // 8] == -1.0
    assert np.count_nonzero(table[:2 * MB]) == 2  # the first 16 MB: the two written cells only


def test_only_reserved_tables_from_their_start_have_a_mapping(table):
    """A reserved table and its reshapes name their mapping; a view from inside it or an ordinary
    array do not, and populating those does nothing."""
    assert mapping(table) is not None and mapping(table.reshape((-1, 8))) is not None
    assert mapping(table[8:]) is None and mapping(np.zeros(10)) is None
    assert not populate(np.zeros(1024), 0, 4096)


def wait_for(condition, timeout_s: float = 10.0) -> None:
    """Wait until condition() holds (failing after timeout_s: the helper never got there)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the helper did not get there"
        time.sleep(0.01)


def test_the_helper_keeps_pages_ahead_of_the_progress_and_no_further(table):
    """With 4 MB of rows filled, the helper populates the bytes past them up to twice that
    (filled + min(max(filled, STEP), AHEAD) = 8 MB); at 40 MB filled, the AHEAD bytes past them.
    It leaves alone the rows the loop has filled, which the loop wrote itself (here nobody did:
    they stay out of memory). Bounds allow a huge page more at each end of a range."""
    progress = np.array([4 * MB // 8])  # rows of 8 bytes
    assert STEP <= 4 * MB <= AHEAD < 24 * MB
    with Prefault(progress, [(table, 0)]):
        wait_for(lambda: resident(table) >= 4 * MB)
        time.sleep(0.05)  # (time for it to go further, were it to)
        assert resident(table) <= 4 * MB + 2 * STEP
        progress[0] = 40 * MB // 8
        wait_for(lambda: resident(table) >= 4 * MB + AHEAD)
        time.sleep(0.05)
        assert resident(table) <= 4 * MB + AHEAD + 4 * STEP


def test_first_tables_are_populated_whole(table):
    """A table the caller is about to clear is populated whole, from its end, and still reads zeros."""
    with Prefault(np.zeros(1, dtype=np.int64), [], first=[table]):
        wait_for(lambda: resident(table) >= table.nbytes)
    assert not table.any()


@njit(nogil=True)
def _count_up(table, progress, every):
    """table[i] = i in order, publishing progress every `every` rows, without the GIL."""
    for i in range(len(table)):
        table[i] = i
        if i % every == 0:
            progress[0] = i


def test_a_writer_running_beside_the_helper_writes_what_it_writes(table):
    """A loop without the GIL fills the table while the helper populates ahead of it: every cell
    holds what the loop wrote, the helper went no further than the table, and its thread is gone."""
    progress = np.zeros(1, dtype=np.int64)
    _count_up(np.zeros(16), progress, 4)  # (compiled before the helper starts)
    with Prefault(progress, [(table, 0)]) as helper:
        _count_up(table, progress, 1 << 14)
    assert not helper.thread.is_alive()
    assert np.array_equal(table, np.arange(len(table), dtype=np.float64))


def prefault_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "skill-sim prefault"]


def test_no_helper_outlives_its_block_even_when_the_block_raises(table):
    """The thread is joined on the way out of the block, an exception included."""
    assert not prefault_threads()
    with pytest.raises(ZeroDivisionError):
        with Prefault(np.zeros(1, dtype=np.int64), [(table, 0)]):
            assert prefault_threads()
            1 / 0
    assert not prefault_threads()


def test_a_flood_run_is_the_same_without_the_helper(monkeypatch):
    """A run of several slices (the loop publishes its progress after each) while the helper
    populates its tables, and one with populate made to fail (the helper stops at once): every
    output is the same to the last bit."""
    graph = nx.connected_watts_strogatz_graph(120, 4, 0.2, seed=2)
    nx.set_edge_attributes(graph, 5000.0, "bandwidth")
    nx.set_edge_attributes(graph, 0.002, "latency")
    work = synthetic_workload(120, 6, macs=10**6, nbytes=900, seed=4, jitter=0.3)
    inp = loop_input(graph, work, np.full(120, 1e6), NetworkConfig(), 1.0, "macs", FloodConfig(), 0, True)
    helped = run_loop(inp)
    assert helped.events > SLICE
    monkeypatch.setattr(prefault, "populate", lambda *args: False)
    alone = run_loop(inp)
    for field in dataclasses.fields(helped):
        assert np.array_equal(getattr(helped, field.name), getattr(alone, field.name)), field.name
