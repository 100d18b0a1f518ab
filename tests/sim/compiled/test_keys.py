"""The flood loop's arrival keys (sim/compiled/keys.py): (sender << task_bits) | task in 63 bits."""

import networkx as nx

from sim.compiled import keys
from sim.compiled.runner import too_wide
from sim.workload import synthetic_workload


def test_task_bits_are_the_bits_of_the_largest_task_id():
    """Hand counts: ids 0..9999 need 14 bits, 0..1 and a lone task 1 bit; 5000 agents (13 bits)
    and 2**50 tasks (50 bits) fit 63 bits, 2**51 tasks do not."""
    assert keys.task_bits(5000, 10_000, 20_000) == 14
    assert keys.task_bits(5000, 16_384, 2) == 14 and keys.task_bits(5000, 16_385, 2) == 15
    assert keys.task_bits(2, 2, 2) == 1 and keys.task_bits(1, 1, 0) == 1
    assert keys.task_bits(5000, 2**50, 2) == 50
    assert keys.task_bits(5000, 2**51, 2) is None
    assert keys.task_bits(2**31, 2, 2) is None  # a payload holds the receiver in 32 bits, signed
    assert keys.task_bits(2, 2, 2**32 + 1) is None  # ... and the direction in 32


def test_keys_keep_sender_then_task_order_whatever_the_width():
    """Packing with the run's width orders (sender, task) pairs as the pairs do."""
    pairs = [(s, t) for s in range(5) for t in range(7)]
    bits = keys.task_bits(5, 7, 10)
    packed = [(s << bits) | t for s, t in pairs]
    assert sorted(range(len(pairs)), key=lambda i: packed[i]) == sorted(range(len(pairs)), key=lambda i: pairs[i])


def test_a_run_too_wide_for_the_keys_is_kept_on_simpy():
    """pick() names the reason instead of handing the loop keys that would overflow."""
    graph = nx.cycle_graph(4)
    assert too_wide(graph, synthetic_workload(4, 2, macs=10, nbytes=10)) is None

    class Huge:  # only the task count matters here; a real workload of 2**62 tasks cannot be built
        num_tasks = 2**62

    assert "63-bit" in too_wide(graph, Huge())
