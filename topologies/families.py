"""Graph families: one `<family>_graph(n, ..., seed=None)` per family, wrapping networkx generators.

Every function returns an undirected `nx.Graph` on nodes `0..n-1`, names its family in
`graph.graph["family"]`, and raises `TopologyError` quoting the bad value and the fix. Random families
take an int seed (anything `numpy.random.SeedSequence` accepts as entropy); the same seed gives the
same graph. Random families that must be connected resample with child seeds drawn from the seed's
SeedSequence, a bounded number of times, then give up with a clear error.
"""

from __future__ import annotations

import math
import numbers
from typing import Callable

import networkx as nx
import numpy as np

from topologies.errors import TopologyError

# Enough that a valid, sensible parameter choice essentially never fails, small enough to fail fast.
MAX_TRIES = 100


def _check_int(name: str, value: object, minimum: int) -> int:
    """Return `value` as an int >= minimum, or raise naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TopologyError(f"{name}={value!r} must be an integer >= {minimum}")
    if value < minimum:
        raise TopologyError(f"{name}={value!r} must be >= {minimum}")
    return int(value)


def _check_prob(name: str, value: object) -> float:
    """Return `value` as a float in [0, 1], or raise naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
        raise TopologyError(f"{name}={value!r} must be a probability in [0, 1]")
    return float(value)


def _check_seed(seed: object) -> int | None:
    """Return the seed as a non-negative int (or None), the form SeedSequence and networkx accept."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TopologyError(f"seed={seed!r} must be None or a non-negative integer")
    return int(seed)


def _check_n(n: object, minimum: int = 1) -> int:
    """Return the node count as an int, or raise."""
    return _check_int("n", n, minimum)


def _named(graph: nx.Graph, family: str) -> nx.Graph:
    """Tag the graph with its family name so results can say what they ran on."""
    graph.graph["family"] = family
    return graph


def _first_connected(build: Callable[[int], nx.Graph], seed: int | None, hint: str) -> nx.Graph:
    """Call build(child_seed) until the graph is connected; child seeds come from SeedSequence(seed)."""
    child_seeds = np.random.SeedSequence(seed).generate_state(MAX_TRIES, dtype=np.uint32)
    for child in child_seeds:
        graph = build(int(child))
        if nx.is_connected(graph):
            return graph
    raise TopologyError(f"no connected graph in {MAX_TRIES} tries: {hint}")


def ring_graph(n: int) -> nx.Graph:
    """Cycle 0-1-...-(n-1)-0 (a line for n < 3): the sparsest connected topology with no ends."""
    n = _check_n(n)
    return _named(nx.cycle_graph(n) if n >= 3 else nx.path_graph(n), "ring")


def line_graph(n: int) -> nx.Graph:
    """Path 0-1-...-(n-1): the worst-case diameter for gossip."""
    return _named(nx.path_graph(_check_n(n)), "line")


def full_graph(n: int) -> nx.Graph:
    """Complete graph: every agent reaches every other in one hop (the SKILL paper's setting)."""
    return _named(nx.complete_graph(_check_n(n)), "full")


def star_graph(n: int) -> nx.Graph:
    """Star with hub 0 and leaves 1..n-1: a central server in graph form."""
    return _named(nx.star_graph(_check_n(n) - 1), "star")


def _divisors(n: int) -> list[int]:
    """All divisors of n in increasing order."""
    return [d for d in range(1, n + 1) if n % d == 0]


def _grid_rows(n: int, rows: int | None) -> int:
    """Pick or check the number of rows so that rows * cols == n."""
    if rows is None:
        # The most square layout: the largest divisor not above sqrt(n).
        rows = max(d for d in _divisors(n) if d * d <= n)
        if rows == 1 and n > 3:
            near = [m for m in range(max(4, n - 3), n + 4) if m != n and _grid_rows_ok(m)]
            raise TopologyError(
                f"n={n} has no near-square grid layout (only 1 x {n}, a line): choose n with a "
                f"divisor, e.g. one of {near}, or pass rows=1 explicitly"
            )
        return rows
    rows = _check_int("rows", rows, 1)
    if n % rows:
        raise TopologyError(
            f"rows={rows} does not divide n={n}: choose rows in {_divisors(n)} or leave rows unset"
        )
    return rows


def _grid_rows_ok(n: int) -> bool:
    """True when n has a non-trivial near-square layout."""
    return any(n % d == 0 for d in range(2, math.isqrt(n) + 1))


def grid_graph(n: int, rows: int | None = None, periodic: bool = False) -> nx.Graph:
    """rows x cols lattice (near-square unless rows is given); node r*cols+c has attrs row, col."""
    n = _check_n(n)
    if not isinstance(periodic, bool):
        raise TopologyError(f"periodic={periodic!r} must be true or false")
    rows = _grid_rows(n, rows)
    cols = n // rows
    lattice = nx.grid_2d_graph(rows, cols, periodic=periodic)
    graph = nx.Graph()
    for r in range(rows):
        for c in range(cols):
            graph.add_node(r * cols + c, row=r, col=c)
    graph.add_edges_from(((a * cols + b), (x * cols + y)) for (a, b), (x, y) in lattice.edges)
    graph.remove_edges_from(list(nx.selfloop_edges(graph)))
    return _named(graph, "torus" if periodic else "grid")


def torus_graph(n: int, rows: int | None = None) -> nx.Graph:
    """Grid whose rows and columns wrap around: every node has the same degree (4 when rows, cols >= 3)."""
    return grid_graph(n, rows=rows, periodic=True)


def tree_graph(n: int, branching: int = 2) -> nx.Graph:
    """Balanced tree with exactly n nodes in breadth-first order, root 0: a hierarchy with one path per pair."""
    n = _check_n(n)
    branching = _check_int("branching", branching, 1)
    return _named(nx.full_rary_tree(branching, n), "tree")


def small_world_graph(n: int, k: int = 4, p: float = 0.1, seed: int | None = None) -> nx.Graph:
    """Connected Watts-Strogatz: ring lattice of k neighbours, each edge rewired with probability p."""
    n = _check_n(n)
    k = _check_int("k", k, 2)
    p = _check_prob("p", p)
    seed = _check_seed(seed)
    if k % 2:
        raise TopologyError(
            f"k={k} is odd: Watts-Strogatz joins k/2 neighbours on each side; choose an even k"
        )
    if k >= n:
        raise TopologyError(f"k={k} >= n={n}: choose k < n (small_world needs n >= 3)")
    return _named(
        _first_connected(
            lambda s: nx.watts_strogatz_graph(n, k, p, seed=s),
            seed,
            f"small_world(n={n}, k={k}, p={p}) keeps falling apart; raise k or lower p",
        ),
        "small_world",
    )


def scale_free_graph(n: int, m: int = 2, seed: int | None = None) -> nx.Graph:
    """Barabasi-Albert preferential attachment: each new node joins m existing ones (always connected)."""
    n = _check_n(n)
    m = _check_int("m", m, 1)
    seed = _check_seed(seed)
    if m >= n:
        raise TopologyError(f"m={m} >= n={n}: choose m < n (scale_free needs n >= 2)")
    return _named(nx.barabasi_albert_graph(n, m, seed=seed), "scale_free")


def random_regular_graph(n: int, d: int = 3, seed: int | None = None) -> nx.Graph:
    """Connected random d-regular graph: every agent has exactly d neighbours."""
    n = _check_n(n)
    d = _check_int("d", d, 0)
    seed = _check_seed(seed)
    if d >= n:
        raise TopologyError(f"d={d} >= n={n}: choose d < n")
    if (n * d) % 2:
        raise TopologyError(f"n*d must be even (n={n}, d={d}): choose an even n or an even d")
    if n == 1 or (n == 2 and d == 1):
        return _named(nx.random_regular_graph(d, n, seed=seed), "random_regular")
    if d < 2:
        raise TopologyError(f"d={d} cannot connect n={n} nodes: choose d >= 2")
    if d == 2:
        # The only connected 2-regular graph is a Hamiltonian cycle; resampling a union of cycles
        # until it happens to be one cycle fails often for large n, so draw a random cycle directly.
        order = np.random.default_rng(np.random.SeedSequence(seed)).permutation(n).tolist()
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        graph.add_edges_from(zip(order, order[1:] + order[:1]))
        return _named(graph, "random_regular")
    return _named(
        _first_connected(
            lambda s: nx.random_regular_graph(d, n, seed=s),
            seed,
            f"random_regular(n={n}, d={d}); raise d",
        ),
        "random_regular",
    )


def default_er_p(n: int) -> float:
    """1.5 * ln(n) / n: above the connectivity threshold ln(n)/n, so resampling rarely takes long."""
    return 1.0 if n < 2 else min(1.0, 1.5 * math.log(n) / n)


def erdos_renyi_graph(
    n: int, p: float | None = None, seed: int | None = None, connected: bool = True
) -> nx.Graph:
    """G(n, p): each pair joined with probability p; resampled until connected unless connected=False."""
    n = _check_n(n)
    p = default_er_p(n) if p is None else _check_prob("p", p)
    seed = _check_seed(seed)
    if not isinstance(connected, bool):
        raise TopologyError(f"connected={connected!r} must be true or false")
    if not connected:
        return _named(nx.fast_gnp_random_graph(n, p, seed=seed), "erdos_renyi")
    if p == 0.0 and n > 1:
        raise TopologyError(f"p=0 can never connect n={n} nodes: choose p > 0 or connected=False")
    threshold = math.log(n) / n if n > 1 else 0.0
    return _named(
        _first_connected(
            lambda s: nx.fast_gnp_random_graph(n, p, seed=s),
            seed,
            f"erdos_renyi(n={n}, p={p:g}); raise p above ln(n)/n = {threshold:.3g} "
            "or pass connected=False",
        ),
        "erdos_renyi",
    )
