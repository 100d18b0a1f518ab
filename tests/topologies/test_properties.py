"""Property: the random families that promise connectivity deliver it for any valid input."""

import math

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from topologies import erdos_renyi_graph, random_regular_graph, small_world_graph

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
FAST = settings(max_examples=40, deadline=None, derandomize=True)  # CI: the same draw every run


@FAST
@given(n=st.integers(5, 60), half_k=st.integers(1, 3), p=st.floats(0.0, 0.3), seed=SEEDS)
def test_small_world_is_connected(n, half_k, p, seed):
    k = min(2 * half_k, n - 1 - (n - 1) % 2)
    graph = small_world_graph(n, k=k, p=p, seed=seed)
    assert graph.number_of_nodes() == n and nx.is_connected(graph)


@FAST
@given(n=st.integers(2, 80), factor=st.floats(1.5, 4.0), seed=SEEDS)
def test_erdos_renyi_is_connected(n, factor, seed):
    p = min(1.0, factor * math.log(n) / n)
    graph = erdos_renyi_graph(n, p=p, seed=seed)
    assert graph.number_of_nodes() == n and nx.is_connected(graph)


@FAST
@given(n=st.integers(3, 80), d=st.integers(2, 6), seed=SEEDS)
def test_random_regular_is_connected(n, d, seed):
    d = min(d, n - 1)
    if (n * d) % 2:
        d -= 1
    graph = random_regular_graph(n, d=d, seed=seed)
    assert nx.is_connected(graph)
    assert all(deg == d for _, deg in graph.degree)
