"""Merge batches that follow the receiver's scatter (Workload.scatter, sim.engine.merging.ScatterStates):
each batch pays the renewal a Mahalanobis mapper would choose from the receiver's scatter then,
Woodbury where it is exact and cheaper, a (pseudo-)inversion otherwise, counted by hand and against
a real receiving mapper.

Every test: a full graph of 4 agents, broadcast, 10 B packages over 10 B/s links with no latency
(a package lands 1 s after it is learned), every agent at 1000 MACs/s, 8-D features. Agent 0
learns nothing; agents 1, 2, 3 learn tasks 0, 1, 2. Renewal parts at d = 8: inverse 4*512 // 3 =
682, pseudo-inverse 512 // 3 + 11*512 // 2 = 2986, re-caching a class 64 + 8 = 72."""

import networkx as nx
import numpy as np
import pytest

from agents.anchors import MahalanobisAnchor
from agents.mapper import MahalanobisMapper, merge_parts
from agents.merge_costs import Scatter
from sim.config import BroadcastConfig
from sim.engine.merging import ScatterStates
from sim.workload import TaskWork, Workload

D = 8
# Task 0: 3 classes x 6 exemplars (rank 18 >= 8: non-singular alone); task 1: 1 class x 2;
# task 2: 2 classes x 8. Their scatter updates: n * 64.
SHAPES = [(18, 3), (2, 1), (16, 2)]


def _work(learn_macs, shapes=SHAPES, shrunk=False, student=None):
    student = [n * D * D for n, _ in shapes] if student is None else student
    tasks = [TaskWork(t, t + 1, learn_macs[t], 10, student[t], exemplars=n, classes=c)
             for t, (n, c) in enumerate(shapes)]
    return Workload(tasks, scatter=Scatter(D, shrunk=shrunk))


def _run(sim_run, linked, work, **kw):
    graph = linked(nx.complete_graph(4), lat=0.0, bw=10.0)
    return sim_run(graph, work, rates=1000.0, gossip=BroadcastConfig(), **kw)


APART = [0, 100_000, 200_000]  # learned at 0, 100, 200 s; every merge done before the next lands


def test_woodbury_where_cheaper_an_inversion_where_not(sim_run, linked):
    """Agent 0 takes each package alone. Task 0 into an empty bank: inverse 682 + 3 classes 216 =
    898. Task 1 (n = 2) onto an exact inverse: Woodbury 2*64*2 + 2*8*4 + 8 // 3 = 322, the 3 held
    classes moved 2*3*8*2 = 96, the new class 64, mu'P mu of 4 classes 32: 514 < re-inverting
    682 + 4*72 = 970. Task 2 (n = 16): Woodbury 2*64*16 + 2*8*256 + 4096 // 3 = 7509 plus 1024 +
    128 + 48 = 8709 > re-inverting 682 + 6*72 = 1114: inverse."""
    res = _run(sim_run, linked, _work(APART))
    agent0 = (1152 + 898) + (128 + 514) + (1024 + 1114)
    assert res.known_at[0] == pytest.approx([1 + 2.050, 101 + 0.642, 201 + 2.138])
    # Agent 1 learned task 0 (its scatter exact at once, uncharged): Woodbury for task 1, inverse for 2.
    agent1 = (128 + 514) + (1024 + 1114)
    # Agent 2 takes task 0 into an empty bank, learns task 1 at 100 (4 classes, still exact), then
    # re-inverts for task 2; agent 3 takes tasks 0 and 1 as agent 0 does, then learns task 2.
    agent2 = (1152 + 898) + (1024 + 1114)
    agent3 = (1152 + 898) + (128 + 514)
    assert res.metrics.student_macs == agent0 + agent1 + agent2 + agent3
    assert res.known_at[1, 1:] == pytest.approx([101 + 0.642, 201 + 2.138])


def test_the_full_inversion_model_charges_more_for_the_same_schedule(sim_run, linked):
    """The same packages given as batch_macs (the lone inverse 682) and hold_macs (72 per class):
    every batch re-inverts, so agent 0's Woodbury batch costs 682 + 4*72 = 970 instead of 514."""
    tasks = [TaskWork(t, t + 1, APART[t], 10, n * 64, batch_macs=682, hold_macs=72 * c) for t, (n, c) in enumerate(SHAPES)]
    res = _run(sim_run, linked, Workload(tasks))
    assert res.known_at[0] == pytest.approx([1 + 2.050, 101 + (128 + 970) / 1000, 201 + 2.138])


def test_a_batch_is_recounted_as_packages_join_it(sim_run, linked):
    """All three land at agent 0 at 1 s: one batch of 36 exemplars and 6 classes from an empty
    bank, one inversion 682 + 6*72 = 1114 (its parts 898, then 970, then 1114 as each joins)."""
    res = _run(sim_run, linked, _work([0, 0, 0]))
    assert res.known_at[0] == pytest.approx([1 + (2304 + 1114) / 1000] * 3)


def test_a_singular_scatter_is_pseudo_inverted_until_its_rank_reaches_d(sim_run, linked):
    """Tasks of 2 classes x 2 exemplars, landing apart at agent 0: rank 4 < 8, a pseudo-inverse
    2986 + 2*72 = 3130; rank 8, an inverse 682 + 4*72 = 970; then Woodbury for n = 4 would cost
    2*64*4 + 2*8*16 + 64 // 3 = 789 plus 256 + 128 + 48 = 1221 > 682 + 6*72 = 1114: inverse.
    Landing at once: one inversion of rank 12, 1114, though the first package alone was singular."""
    shapes = [(4, 2)] * 3
    apart = _run(sim_run, linked, _work(APART, shapes))
    assert apart.known_at[0] == pytest.approx([1 + 3.386, 101 + 1.226, 201 + 1.370])
    together = _run(sim_run, linked, _work([0, 0, 0], shapes))
    assert together.known_at[0] == pytest.approx([1 + (768 + 1114) / 1000] * 3)


def test_with_shrinkage_every_batch_re_inverts_as_the_full_inversion_model(sim_run, linked):
    """shrinkage > 0: never singular, never Woodbury; the same times and MACs as batch_macs 682 and
    hold_macs 72 per class (the model a shrunk receiver had before)."""
    scatter = _run(sim_run, linked, _work(APART, shrunk=True))
    tasks = [TaskWork(t, t + 1, APART[t], 10, n * 64, batch_macs=682, hold_macs=72 * c) for t, (n, c) in enumerate(SHAPES)]
    full = _run(sim_run, linked, Workload(tasks))
    assert scatter.metrics.student_macs == full.metrics.student_macs
    np.testing.assert_allclose(scatter.known_at, full.known_at)


def _anchor(rng, classes, per_class):
    mix = rng.normal(0, 1, (D, D))
    means = rng.normal(0, 2, (classes, D))
    labels = np.repeat(np.arange(classes), per_class)
    ex = means[labels] + rng.normal(0, 1, (len(labels), D)) @ mix
    return MahalanobisAnchor(means.astype(np.float32), ex.astype(np.float32), labels.astype(np.int64))


@pytest.mark.parametrize("shape", [[(3, 6), (1, 2), (2, 8)], [(2, 2), (2, 2), (2, 2)]])
def test_the_engine_charges_what_a_receiving_mapper_counts(sim_run, linked, shape):
    """Real anchors at shrinkage 0: agent 0 (every package alone) and agent 1 (task 0 its own)
    are charged what a real MahalanobisMapper counts taking the same packages in the same order."""
    rng = np.random.default_rng(0)
    anchors = [_anchor(rng, c, m) for c, m in shape]
    parts = [merge_parts(a, 0, MahalanobisMapper(0.0).add(t, a)) for t, a in enumerate(anchors)]
    tasks = [TaskWork(t, t + 1, APART[t], 10, p[0], batch_macs=p[1], hold_macs=p[2], exemplars=len(a.exemplar_labels),
                      classes=len(a.class_means)) for t, (a, p) in enumerate(zip(anchors, parts))]
    res = _run(sim_run, linked, Workload(tasks, scatter=Scatter(D, shrunk=False)))
    receiver = MahalanobisMapper(0.0)
    lone = [receiver.add(t, a) for t, a in enumerate(anchors)]
    owner = MahalanobisMapper(0.0)
    owner.add(0, anchors[0])  # learned by agent 1 itself
    owned = [owner.add(t, anchors[t]) for t in (1, 2)]
    assert res.known_at[0] == pytest.approx([1 + lone[0] / 1000, 101 + lone[1] / 1000, 201 + lone[2] / 1000])
    assert res.known_at[1, 1:] == pytest.approx([101 + owned[0] / 1000, 201 + owned[1] / 1000])


def test_engine_states_restart_empty_and_re_invert_after_a_drop():
    """Two agents, task 0 (9 exemplars, 3 classes), task 1 (2, 1). Agent 0 takes task 0 (inverse
    682 + 216 = 898), then task 1 by Woodbury (322 + 2*3*8*2 = 96, 64, 32: 514); after dropping
    task 1 its metric is stale: taking task 1 again re-inverts (682 + 4*72 = 970); after a restart
    task 1 alone into an empty bank is singular (2986 + 72 = 3058)."""
    states = ScatterStates(2, Scatter(8, shrunk=False), np.array([9, 2]), np.array([3, 1]))
    assert states.take(0, 0, joins=False) == 898
    assert states.take(0, 1, joins=False) == 514
    states.drop(0, np.array([1]))
    assert states.take(0, 1, joins=False) == 970
    states.restart(0)
    assert states.take(0, 1, joins=False) == 3058
    assert states.kinds == {"inverse": 2, "woodbury": 1, "inverse (pseudo)": 1}


def test_engine_states_count_a_learned_task_into_the_next_batch_only():
    """Agent 0 learns task 0 (9, 3; exact at once): task 1 arriving next is a Woodbury batch (514),
    charged nothing for task 0 itself."""
    states = ScatterStates(1, Scatter(8, shrunk=False), np.array([9, 2]), np.array([3, 1]))
    states.own(0, 0)
    assert states.take(0, 1, joins=False) == 514
