"""Derived metrics: speedup and efficiency, alpha cost, coverage curve, per-agent and per-link bytes."""

import networkx as nx
import numpy as np
import pytest

from sim.config import BroadcastConfig, FailuresConfig, FloodConfig, NetworkConfig
from sim.simulate import simulate
from sim.metrics import coverage_curve
from sim.workload import synthetic_workload


def test_speedup_efficiency_and_costs_on_a_full_graph():
    n, bw = 4, 1000.0
    g = nx.complete_graph(n)
    nx.set_edge_attributes(g, bw, "bandwidth")
    work = synthetic_workload(n, 2, macs=100, nbytes=100, student_macs=0)
    res = simulate(g, work, rates=[10.0] * n, network=NetworkConfig(), gossip=BroadcastConfig(),
                   failures=FailuresConfig(), seed=0, alpha=10.0)
    m = res.metrics
    # each agent learns 2 tasks (20 s); the last package arrives 0.1 s later
    assert m.makespan_s == pytest.approx(20.1)
    assert m.single_agent_s == pytest.approx(80.0)
    assert m.speedup == pytest.approx(80.0 / 20.1)
    assert m.efficiency == pytest.approx(m.speedup / n)
    assert m.teacher_macs == 800
    assert m.bytes_sent == 8 * 3 * 100
    assert m.alpha_cost == pytest.approx(800 + 10.0 * 2400)
    assert m.agent_full_s == pytest.approx([20.1] * n)
    assert m.bytes_out == pytest.approx([600.0] * n) and m.bytes_in == pytest.approx([600.0] * n)
    assert m.bytes_per_link["0-1"] == pytest.approx(400.0)


def test_a_run_that_never_reaches_full_knowledge_has_no_speedup_rather_than_zero():
    g = nx.Graph([(0, 1), (2, 3)])  # two parts: neither ever gets the other part's tasks
    nx.set_edge_attributes(g, 1000.0, "bandwidth")
    work = synthetic_workload(4, 1, macs=100, nbytes=100, student_macs=0)
    m = simulate(g, work, rates=[10.0] * 4, network=NetworkConfig(), gossip=FloodConfig(),
                 failures=FailuresConfig(), seed=0).metrics
    assert not m.complete and m.makespan_s == float("inf")
    assert m.single_agent_s == pytest.approx(40.0)  # still known: 4 tasks x 100 MACs at 10 MACs/s
    assert m.speedup is None and m.efficiency is None


def test_coverage_curve_is_a_step_series_to_one():
    g = nx.cycle_graph(6)
    nx.set_edge_attributes(g, 1e3, "bandwidth")
    work = synthetic_workload(6, 1, macs=10, nbytes=100, seed=0, jitter=0.5)
    m = simulate(g, work, rates=[1.0] * 6, network=NetworkConfig(), gossip=FloodConfig(),
                 failures=FailuresConfig(), seed=0).metrics
    times = [t for t, _ in m.coverage]
    levels = [c for _, c in m.coverage]
    assert times == sorted(times) and levels == sorted(levels)
    assert levels[0] == 0.0 and levels[-1] == pytest.approx(1.0)
    assert times[-1] == pytest.approx(m.makespan_s)


def test_coverage_curve_counts_removals_and_samples_large_runs():
    known = np.array([[1.0, np.inf], [2.0, 3.0]])
    curve = coverage_curve(known, [(2.5, 0, 1, 0.5)], total=4)
    assert curve == [(0.0, 0.0), (0.5, 0.25), (1.0, 0.5), (2.0, 0.75), (2.5, 0.5), (3.0, 0.75)]
    big = np.random.default_rng(0).random((300, 100))
    sampled = coverage_curve(big, [], total=big.size)
    assert len(sampled) == 1000 and sampled[-1][1] == pytest.approx(1.0)


def test_sampled_coverage_counts_exactly_what_has_happened_by_each_grid_point():
    rng = np.random.default_rng(1)
    big = np.round(rng.random((300, 100)) * 50, 1)  # many values fall exactly on grid points
    removed = [(float(t), 0, 0, float(b)) for t, b in zip(rng.uniform(25, 50, 40), rng.uniform(0, 25, 40))]
    curve = coverage_curve(big, removed, total=big.size)
    ups = np.sort(np.concatenate([big.ravel(), [r[3] for r in removed]]))
    downs = np.sort([r[0] for r in removed])
    for t, level in curve:
        expected = np.searchsorted(ups, t, side="right") - np.searchsorted(downs, t, side="right")
        assert level == expected / big.size


def test_counting_against_the_grid_matches_a_sorted_search_exactly():
    from sim.metrics import _at_most

    rng = np.random.default_rng(2)
    grid = np.linspace(0.0, 7.3, 97)
    values = np.concatenate([rng.uniform(0, 7.3, 5000), grid, np.nextafter(grid, np.inf), np.nextafter(grid, -np.inf)])
    values = values[(values >= 0) & (values <= 7.3)]
    expected = np.searchsorted(np.sort(values), grid, side="right")
    assert np.array_equal(_at_most(values, grid, block=1000), expected)  # across block edges too


def test_coverage_over_time_counts_survivors_only_and_ends_at_the_summary_figure():
    from sim.metrics import survivor_coverage

    # agents 0 and 1 survive, agent 2 is dead at the end: pairs = 2 survivors x 2 tasks = 4.
    # Agent 0 banks task 0 at 1 and task 1 at 2; agent 1 banks task 0 at 3, and held task 1 from
    # 1.5 until a wipe at 2.5; dead agent 2's holdings and wipe count nowhere.
    known = np.array([[1.0, 2.0], [3.0, np.inf], [0.2, 0.3]])
    removed = [(2.5, 1, 1, 1.5), (4.0, 2, 1, 0.5)]
    curve = survivor_coverage(known, removed, np.array([True, True, False]))
    assert curve == [(0.0, 0.0), (1.0, 0.25), (1.5, 0.5), (2.0, 0.75), (2.5, 0.5), (3.0, 0.75)]


def test_the_coverage_curve_of_a_run_with_a_crash_ends_at_coverage_final():
    g = nx.cycle_graph(6)
    nx.set_edge_attributes(g, 1e3, "bandwidth")
    work = synthetic_workload(6, 1, macs=10, nbytes=1000)
    failures = FailuresConfig(agents={"scheduled": [{"agent": 2, "at_s": 0.5}]})
    m = simulate(g, work, rates=[10.0] * 6, network=NetworkConfig(), gossip=FloodConfig(),
                 failures=failures, seed=5).metrics
    # 5 survivors know the 5 surviving tasks of 6: 25 of 30 pairs (the old curve, over all 36
    # pairs, ended at 25/36 while the summary said 5/6)
    assert m.coverage_final == pytest.approx(5 / 6)
    assert m.coverage[-1][1] == pytest.approx(5 / 6)

