"""Graph families: size, connectivity, determinism under a seed, and error messages."""

import networkx as nx
import pytest

from topologies import TopologyError, families

DETERMINISTIC = [
    (families.ring_graph, {}),
    (families.line_graph, {}),
    (families.full_graph, {}),
    (families.star_graph, {}),
    (families.grid_graph, {}),
    (families.torus_graph, {}),
    (families.tree_graph, {"branching": 3}),
]
RANDOM = [
    (families.small_world_graph, {"k": 4, "p": 0.3}),
    (families.scale_free_graph, {"m": 2}),
    (families.random_regular_graph, {"d": 3}),
    (families.random_regular_graph, {"d": 2}),
    (families.erdos_renyi_graph, {}),
]


def _edges(graph: nx.Graph) -> list[tuple[int, int]]:
    return sorted(tuple(sorted(e)) for e in graph.edges)


@pytest.mark.parametrize("build, params", DETERMINISTIC + RANDOM)
@pytest.mark.parametrize("n", [12, 36])
def test_size_nodes_and_connectivity(build, params, n):
    kwargs = dict(params, seed=7) if (build, params) in RANDOM else params
    graph = build(n, **kwargs)
    assert type(graph) is nx.Graph
    assert sorted(graph.nodes) == list(range(n))
    assert nx.is_connected(graph)
    assert nx.number_of_selfloops(graph) == 0
    assert graph.graph["family"]


@pytest.mark.parametrize("build, params", RANDOM)
def test_same_seed_same_graph_other_seed_other_graph(build, params):
    a, b = build(40, **params, seed=123), build(40, **params, seed=123)
    assert _edges(a) == _edges(b)
    assert _edges(build(40, **params, seed=124)) != _edges(a)


def test_family_shapes():
    assert families.ring_graph(6).number_of_edges() == 6
    assert families.line_graph(6).number_of_edges() == 5
    assert families.full_graph(6).number_of_edges() == 15
    star = families.star_graph(6)
    assert star.degree[0] == 5 and all(star.degree[i] == 1 for i in range(1, 6))
    assert families.tree_graph(10, branching=2).number_of_edges() == 9
    assert all(d == 3 for _, d in families.random_regular_graph(20, d=3, seed=1).degree)
    assert all(d == 2 for _, d in families.random_regular_graph(50, d=2, seed=1).degree)


def test_grid_near_square_and_rows():
    grid = families.grid_graph(12)  # 3 x 4
    assert grid.number_of_edges() == 3 * 3 + 2 * 4
    assert grid.nodes[5] == {"row": 1, "col": 1}
    assert families.grid_graph(12, rows=2).number_of_edges() == 2 * 5 + 6
    assert families.grid_graph(7, rows=1).number_of_edges() == 6
    torus = families.torus_graph(16)
    assert all(d == 4 for _, d in torus.degree)
    assert torus.graph["family"] == "torus"


def test_tiny_graphs():
    for build in (families.ring_graph, families.line_graph, families.full_graph, families.star_graph):
        assert build(1).number_of_nodes() == 1
        assert nx.is_connected(build(2))
    assert families.random_regular_graph(2, d=1, seed=0).number_of_edges() == 1
    assert families.erdos_renyi_graph(1, seed=0).number_of_nodes() == 1


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: families.ring_graph(0), "n=0 must be >= 1"),
        (lambda: families.ring_graph(2.5), "n=2.5 must be an integer"),
        (lambda: families.small_world_graph(5, k=6), "k=6 >= n=5: choose k < n"),
        (lambda: families.small_world_graph(10, k=3), "k=3 is odd"),
        (lambda: families.small_world_graph(10, p=1.5), "p=1.5 must be a probability in [0, 1]"),
        (lambda: families.random_regular_graph(5, d=3), "n*d must be even (n=5, d=3)"),
        (lambda: families.random_regular_graph(5, d=5), "d=5 >= n=5: choose d < n"),
        (lambda: families.random_regular_graph(6, d=1), "d=1 cannot connect n=6 nodes: choose d >= 2"),
        (lambda: families.scale_free_graph(3, m=3), "m=3 >= n=3: choose m < n"),
        (lambda: families.grid_graph(7), "n=7 has no near-square grid layout"),
        (lambda: families.grid_graph(10, rows=3), "rows=3 does not divide n=10: choose rows in [1, 2, 5, 10]"),
        (lambda: families.tree_graph(5, branching=0), "branching=0 must be >= 1"),
        (lambda: families.erdos_renyi_graph(5, p=0.0), "p=0 can never connect n=5 nodes"),
        (lambda: families.erdos_renyi_graph(200, p=0.001, seed=1), "no connected graph in 100 tries"),
        (lambda: families.scale_free_graph(10, seed=-1), "seed=-1 must be None or a non-negative integer"),
    ],
)
def test_bad_parameters_say_the_fix(call, message):
    with pytest.raises(TopologyError) as err:
        call()
    assert message in str(err.value)


def test_erdos_renyi_unconnected_allowed():
    graph = families.erdos_renyi_graph(50, p=0.01, seed=3, connected=False)
    assert graph.number_of_nodes() == 50
    assert not nx.is_connected(graph)
