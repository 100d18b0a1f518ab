"""Banks and liveness at given moments, read back from a run's record, against times worked out
by hand: learning time = MACs / rate, a transfer = bytes / bandwidth (latency 0)."""

import networkx as nx

from sim.banks import alive_at, banks_at
from sim.workload import from_costs

# Two agents on one 1 MB/s link, 1e9 MACs/s each. Agent 0 learns task 0 (1e9 MACs: done at 1 s)
# and sends its 1 MB package (arrives at 2 s); agent 1 learns task 1 (3e9 MACs: done at 3 s) and
# sends its 2 MB package (arrives at 5 s). Merging costs nothing (student MACs 0).
WORK = from_costs([[0], [1]], macs=[1e9, 3e9], nbytes=[1e6, 2e6], student_macs=[0, 0])


def _pair(linked):
    return linked(nx.path_graph(2), bw=1e6, lat=0.0)


def test_banks_follow_learning_and_arrivals_worked_out_by_hand(linked, sim_run):
    result = sim_run(_pair(linked), WORK, rates=1e9)
    times = [0.5, 1.0, 1.5, 2.5, 3.5, 5.5]
    expected = [({}, {}), ({0}, {}), ({0}, {}), ({0}, {0}), ({0}, {0, 1}), ({0, 1}, {0, 1})]
    got = banks_at(result, times, [0, 1])
    assert [(set(b[0]), set(b[1])) for b in got] == [(set(a), set(b)) for a, b in expected]
    assert all(all(up.values()) for up in alive_at(result, times, [0, 1]))


def test_a_bank_wiped_at_recovery_is_empty_from_then_and_the_agent_is_down_meanwhile(linked, sim_run):
    # Agent 1 (task 0 banked at 2 s, its own task 1 at 3 s) crashes at 6 s
    # and comes back at 7 s without its bank; nothing can reach it again before 8 s (a resend of
    # the 1 MB package takes 1 s), so at 7.5 s it is up and holds nothing.
    failures = {"agents": {"scheduled": [{"agent": 1, "at_s": 6.0, "recover_at_s": 7.0, "keep_bank": False}]}}
    result = sim_run(_pair(linked), WORK, rates=1e9, failures=failures)
    times = [5.5, 6.0, 6.5, 7.0, 7.5]
    banks = banks_at(result, times, [1])
    assert [set(b[1]) for b in banks] == [{0, 1}, {0, 1}, {0, 1}, set(), set()]
    assert [up[1] for up in alive_at(result, times, [1])] == [True, False, False, True, True]
    assert [up[0] for up in alive_at(result, times, [0])] == [True] * 5


def test_the_banks_after_the_last_change_are_the_final_banks(linked, sim_run):
    failures = {"agents": {"scheduled": [{"agent": 1, "at_s": 6.0, "recover_at_s": 7.0, "keep_bank": False}]}}
    result = sim_run(_pair(linked), WORK, rates=1e9, failures=failures)
    last = max(t for t, *_ in result.bank_changes())
    (final,) = banks_at(result, [last + 1.0], [0, 1])
    assert final == {a: frozenset(result.bank(a)) for a in (0, 1)}
