"""Merge batches (sim.engine.merging): per-batch merge work (a Mahalanobis mapper's inversion) is
paid once for the packages an agent takes in together, counted by hand on a 4-agent broadcast.

Every test: a full graph of 4 agents, broadcast, 10 B packages over 10 B/s links with no latency
(a package lands 1 s after it is learned), every agent at 10 MACs/s. Agent 0 learns nothing;
agents 1, 2, 3 learn tasks 0, 1, 2."""

import networkx as nx
import numpy as np
import pytest

from agents.anchors import MahalanobisAnchor
from agents.mapper import MahalanobisMapper, merge_parts
from sim.compiled import pick
from sim.config import BroadcastConfig, FailuresConfig, NetworkConfig
from sim.workload import TaskWork, Workload

STUDENT, BATCH, HOLD = 40, 100, 5


def _run(sim_run, linked, learn_macs, student=STUDENT, batch=BATCH, hold=HOLD):
    work = Workload([TaskWork(t, t + 1, learn_macs[t], 10, student[t] if isinstance(student, list) else student,
                              batch_macs=batch[t] if isinstance(batch, list) else batch,
                              hold_macs=hold[t] if isinstance(hold, list) else hold) for t in range(3)])
    graph = linked(nx.complete_graph(4), lat=0.0, bw=10.0)
    return sim_run(graph, work, rates=10.0, gossip=BroadcastConfig())


def test_packages_landing_at_once_pay_one_inversion(sim_run, linked):
    """All learned at 0, all land at 1. Agent 0 takes 3 at once: 100 + 3*40 + 3*5 = 235 MACs, known
    at 1 + 23.5. Agents 1-3 take 2 at once and hold their own: 100 + 2*40 + 3*5 = 195 each, known
    at 1 + 19.5. Four inversions for nine merges: 235 + 3*195 = 820."""
    res = _run(sim_run, linked, [0, 0, 0])
    assert res.metrics.student_macs == 820
    assert res.known_at[0] == pytest.approx([24.5] * 3)
    assert res.known_at[1, 1:] == pytest.approx([20.5, 20.5])
    assert res.engine == "simpy"


def test_packages_landing_apart_pay_one_inversion_each(sim_run, linked):
    """Learned at 0, 100, 200 (1000 and 2000 MACs at 10/s), landing at 1, 101, 201: every merge,
    15.5 s or less, is done before the next lands, so each of the nine merges is its own batch and
    pays 100 + 40 plus 5 for every package the agent holds by then (its own included)."""
    res = _run(sim_run, linked, [0, 1000, 2000])
    agent0 = (140 + 5) + (140 + 10) + (140 + 15)
    agent1 = (140 + 10) + (140 + 15)  # holds its own task 0 from t = 0
    agent2 = (140 + 5) + (140 + 15)  # task 0 lands at 1, before it learns task 1 at 100
    agent3 = (140 + 5) + (140 + 10)  # tasks 0 and 1 land before it learns task 2 at 200
    assert res.metrics.student_macs == agent0 + agent1 + agent2 + agent3
    assert res.known_at[0] == pytest.approx([1 + 14.5, 101 + 15.0, 201 + 15.5])


def test_packages_landing_while_busy_merge_in_the_next_batch(sim_run, linked):
    """Learned at 0, 1, 2 (0, 10, 20 MACs), landing at agent 0 at 1, 2, 3. Its first batch (task 0:
    145 MACs) runs 1 -> 15.5; tasks 1 and 2 land meanwhile and merge together from 15.5: 100 + 80
    + 3*5 = 195 MACs, done at 35. Two inversions for three packages at agent 0."""
    res = _run(sim_run, linked, [0, 10, 20])
    assert res.known_at[0] == pytest.approx([15.5, 35.0, 35.0])
    # agent 1 (own task 0 at 0): task 1 at 2 alone (150: 2 held), task 2 at 3 waits: 145 + ... from 17
    assert res.known_at[1, 1:] == pytest.approx([2 + 15.0, 17 + 15.5])


def test_a_batch_pays_its_largest_per_batch_part_once(sim_run, linked):
    """Per-batch parts 100, 300, 200 landing at once at agent 0: 300 + 3*40 = 420 (no hold)."""
    res = _run(sim_run, linked, [0, 0, 0], batch=[100, 300, 200], hold=0)
    assert res.known_at[0] == pytest.approx([1 + 42.0] * 3)


def test_without_per_batch_work_merging_is_one_package_at_a_time(sim_run, linked):
    """batch 0 and hold 0: each package its own 4 s at agent 0, in turn (the pipeline as before)."""
    res = _run(sim_run, linked, [0, 0, 0], batch=0, hold=0)
    assert sorted(res.known_at[0]) == pytest.approx([5.0, 9.0, 13.0])
    assert res.metrics.student_macs == 9 * 40


def test_the_compiled_loops_decline_batched_merges():
    graph = nx.complete_graph(4)
    work = Workload([TaskWork(0, 1, 0, 10, 40, batch_macs=100)])
    engine, reason = pick(graph, work, NetworkConfig(), BroadcastConfig(), FailuresConfig(), "auto")
    assert engine == "simpy" and "merge batches" in reason
    plain = Workload([TaskWork(0, 1, 0, 10, 40)])
    assert "merge batches" not in (pick(graph, plain, NetworkConfig(), BroadcastConfig(), FailuresConfig(), "auto")[1] or "")


def _anchor(rng, classes, per_class, d):
    means = rng.normal(0, 2, (classes, d))
    labels = np.repeat(np.arange(classes), per_class)
    ex = means[labels] + rng.normal(0, 1, (len(labels), d))
    return MahalanobisAnchor(means.astype(np.float32), ex.astype(np.float32), labels.astype(np.int64))


def test_the_engine_charges_what_a_receiving_mapper_counts(sim_run, linked):
    """Real anchors (8-D, 2-3 classes): each task's lone-merge cost split by merge_parts; agent 0's
    engine cost in the 'while busy' schedule equals a mapper taking task 0 alone, then 1 and 2 as
    one batch (agents.mapper's own count, shrinkage 0.1: full re-inversions)."""
    rng = np.random.default_rng(0)
    anchors = [_anchor(rng, c, 3, 8) for c in (2, 3, 2)]
    parts = [merge_parts(a, 0, MahalanobisMapper().add(t, a)) for t, a in enumerate(anchors)]
    res_all = _run(sim_run, linked, [0, 10, 20], student=[p[0] for p in parts], batch=[p[1] for p in parts],
                   hold=[p[2] for p in parts])
    receiver = MahalanobisMapper()
    want = receiver.add(0, anchors[0]) + receiver.add_batch([(1, anchors[1]), (2, anchors[2])])
    # agent 0's two batches run back to back from 1 s at 10 MACs/s
    assert res_all.known_at[0, 1] == pytest.approx(1 + want / 10.0)


@pytest.mark.parametrize("at, back, want", [
    (20.0, 30.0, [15.5, 45.0, 45.0]),  # during the second batch: it ends 10 s later
    (10.0, 20.0, [25.5, 45.0, 45.0]),  # during the first: the second, not started, starts 10 s later
])
def test_a_crash_with_the_bank_kept_delays_the_batches_by_the_time_down(sim_run, linked, at, back, want):
    """The 'while busy' schedule at agent 0 (batches 1 -> 15.5 and 15.5 -> 35), crashed at `at`
    and back at `back` with its bank: the merges resume where they stopped."""
    work = Workload([TaskWork(t, t + 1, [0, 10, 20][t], 10, STUDENT, batch_macs=BATCH, hold_macs=HOLD)
                     for t in range(3)])
    graph = linked(nx.complete_graph(4), lat=0.0, bw=10.0)
    crash = {"agent": 0, "at_s": at, "recover_at_s": back, "keep_bank": True}
    res = sim_run(graph, work, rates=10.0, gossip=BroadcastConfig(), failures={"agents": {"scheduled": [crash]}})
    assert res.known_at[0] == pytest.approx(want)
