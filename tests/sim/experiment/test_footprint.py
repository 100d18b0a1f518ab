"""The memory estimate of a run, against hand counts and the graphs the families really build."""

import pytest

from sim.experiment import footprint
from topologies.registry import build_graph, family_params


def test_estimate_is_the_sum_of_its_parts_by_hand():
    f = footprint.estimate(agents=10, tasks=3, edges=15)
    assert f.pairs == 10 * 3 * footprint.BYTES_PER_PAIR
    assert f.graph == 10 * footprint.BYTES_PER_NODE + 15 * footprint.BYTES_PER_EDGE
    assert f.agents == 10 * footprint.BYTES_PER_AGENT
    assert f.total == f.pairs + f.graph + f.agents


@pytest.mark.parametrize("family, params", [
    ("ring", {}), ("line", {}), ("star", {}), ("grid", {}), ("torus", {}), ("tree", {}), ("full", {}),
    ("small_world", {"k": 6}), ("scale_free", {"m": 3}), ("random_regular", {"d": 4}),
    ("erdos_renyi", {"p": 0.2}),
])
def test_mean_degree_is_not_far_below_the_built_graphs(family, params):
    n = 60
    g = build_graph(family, n, seed=1, **params)
    real = 2 * g.number_of_edges() / n
    guess = footprint.mean_degree(family, n, params, family_params(family))
    assert real * 0.7 <= guess <= max(real * 2.5, 4.0), (real, guess)


def test_human_sizes():
    assert footprint.human(512) == "512 B"
    assert footprint.human(3_200_000) == "3.2 MB"
    assert footprint.human(14.1e9) == "14.1 GB"


def test_available_memory_is_a_positive_figure_on_linux():
    free = footprint.available_memory()
    assert free is None or free > 0
