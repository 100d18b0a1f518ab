"""The flood loop's merge-time table (sim/compiled/banks.py): +inf, then the earliest arrival on
its way, then the merge time negated once banked; settle reads banks and merge times back."""

import numpy as np

from sim.compiled.banks import add, clear, has, reserved_table, settle


def test_banked_cells_read_back_as_banks_and_merge_times_zero_included():
    """A package banked at time 0.0 (stored as -0.0) is held and reads back as +0.0 bit for bit;
    a cell with a copy on its way and an untouched cell are not held and read back unchanged."""
    table = reserved_table(3, 2)  # 3 agents, 2 packages
    clear(table)
    add(table, 0, 0, 0.0)
    add(table, 2, 1, 7.25)
    table[1, 0] = 3.5  # package 1 on its way to agent 0, not banked
    banked = table.view(np.int64)
    assert has(banked, 0, 0) and has(banked, 2, 1)
    assert not has(banked, 0, 1) and not has(banked, 1, 0)
    held = settle(table)
    merged = table.T
    assert held.tolist() == [[True, False], [False, False], [False, True]]
    assert merged[0, 0] == 0.0 and not np.signbit(merged[0, 0])
    assert merged[2, 1] == 7.25 and merged[0, 1] == 3.5
    assert np.isinf(merged[1, 0]) and np.isinf(merged[1, 1]) and np.isinf(merged[2, 0])


def test_settle_reads_banks_across_tile_edges():
    """Tables larger than one 64 x 64 tile, with ragged edges: banks come back by agent exactly,
    and the table's transposed view holds the merge times."""
    rng = np.random.default_rng(3)
    table = reserved_table(130, 70)
    clear(table)
    times = rng.random((70, 130))
    banked_cells = rng.random((70, 130)) < 0.5
    for p, v in zip(*np.nonzero(banked_cells)):
        add(table, v, p, times[p, v])
    table[~banked_cells] = times[~banked_cells]
    held = settle(table)
    assert np.array_equal(held, banked_cells.T)
    assert np.array_equal(table.T, times.T)


def test_a_table_without_packages_has_no_rows():
    """No tasks, no rows (a mapping of no bytes cannot be made: the table is a view of none of one)."""
    assert reserved_table(10, 0).shape == (0, 10)
    assert reserved_table(10, 3).shape == (3, 10)
