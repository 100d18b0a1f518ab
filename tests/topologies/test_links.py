"""Link attributes: numbers, seeded distributions, per-edge values from files, and bad values."""

import networkx as nx
import pytest

from topologies import TopologyError, assign_links, check_link_number, ring_graph, validate_link_value

UNIFORM = {"dist": "uniform", "low": 0.01, "high": 0.05}


def _values(graph: nx.Graph, name: str) -> list[float]:
    return [graph.edges[u, v][name] for u, v in sorted(graph.edges)]


def test_numbers_on_every_edge_and_input_untouched():
    graph = ring_graph(6)
    out = assign_links(graph, 1e6, 0.02, 0.1)
    assert all(d == {"bandwidth": 1e6, "latency": 0.02, "loss": 0.1} for *_, d in out.edges(data=True))
    assert all(d == {} for *_, d in graph.edges(data=True))


@pytest.mark.parametrize(
    "name, spec, check",
    [
        ("latency", UNIFORM, lambda v: 0.01 <= v <= 0.05),
        ("bandwidth", {"dist": "lognormal", "mean": 1e6, "sigma": 0.5}, lambda v: v > 0),
        ("latency", {"dist": "normal", "mean": 0.0, "std": 0.01}, lambda v: v >= 0),
        ("loss", {"dist": "normal", "mean": 0.5, "std": 2.0}, lambda v: 0 <= v < 1),
        ("loss", {"dist": "choice", "values": [0.0, 0.2]}, lambda v: v in (0.0, 0.2)),
    ],
)
def test_distributions_are_seeded_and_in_range(name, spec, check):
    specs = {"bandwidth": 1e6, "latency": 0.0, "loss": 0.0, name: spec}
    a = assign_links(ring_graph(40), **specs, seed=5)
    b = assign_links(ring_graph(40), **specs, seed=5)
    assert _values(a, name) == _values(b, name)
    assert all(check(v) for v in _values(a, name))
    assert len(set(_values(a, name))) > 1
    assert _values(assign_links(ring_graph(40), **specs, seed=6), name) != _values(a, name)


def test_lognormal_mean_is_the_mean_of_the_values():
    out = assign_links(nx.complete_graph(80), {"dist": "lognormal", "mean": 1e6, "sigma": 0.3}, 0, 0, seed=1)
    values = _values(out, "bandwidth")
    assert abs(sum(values) / len(values) / 1e6 - 1) < 0.05


def test_independent_of_edge_insertion_order():
    forward, backward = nx.Graph(), nx.Graph()
    edges = [(0, 1), (1, 2), (2, 3), (3, 0)]
    forward.add_edges_from(edges)
    backward.add_edges_from((v, u) for u, v in reversed(edges))
    a = assign_links(forward, 1e6, UNIFORM, 0, seed=9)
    b = assign_links(backward, 1e6, UNIFORM, 0, seed=9)
    assert _values(a, "latency") == _values(b, "latency")


def test_one_attribute_spec_does_not_shift_another():
    a = assign_links(ring_graph(10), 1e6, UNIFORM, 0, seed=3)
    b = assign_links(ring_graph(10), {"dist": "uniform", "low": 1, "high": 2}, UNIFORM, 0, seed=3)
    assert _values(a, "latency") == _values(b, "latency")


def test_existing_values_kept_or_overwritten():
    graph = ring_graph(4)
    graph.edges[0, 1]["bandwidth"] = 5.0
    kept = assign_links(graph, 1e6, 0, 0)
    assert kept.edges[0, 1]["bandwidth"] == 5.0 and kept.edges[1, 2]["bandwidth"] == 1e6
    replaced = assign_links(graph, 1e6, 0, 0, keep_existing=False)
    assert replaced.edges[0, 1]["bandwidth"] == 1e6


def test_none_requires_values_from_the_file():
    graph = ring_graph(3)
    for u, v in graph.edges:
        graph.edges[u, v]["latency"] = 0.5
    assert set(_values(assign_links(graph, 1e6, None, 0), "latency")) == {0.5}
    with pytest.raises(TopologyError, match=r"has no bandwidth and bandwidth=None"):
        assign_links(graph, None, None, 0)


@pytest.mark.parametrize(
    "specs, message",
    [
        ((-5, 0, 0), "bandwidth=-5 is invalid: bandwidth (bytes/s) must be a finite number > 0"),
        ((1e6, -0.1, 0), "latency=-0.1 is invalid"),
        ((1e6, 0, 1.0), "loss=1.0 is invalid: loss (probability) must be a number in [0, 1)"),
        ((1e6, {"dist": "gamma"}, 0), "latency: unknown dist 'gamma': choose one of"),
        ((1e6, {"dist": "uniform", "low": 0.1}, 0), "missing ['high']"),
        ((1e6, {"dist": "uniform", "low": 0.2, "high": 0.1}, 0), "low=0.2 > high=0.1"),
        ((1e6, 0, {"dist": "choice", "values": [0.1, 1.5]}), "loss=1.5 is invalid"),
        ((1e6, 0, {"dist": "lognormal", "mean": 0.1, "sigma": 1}), "unbounded above 1"),
        (({"dist": "normal", "mean": 1e6, "sigma": 1}, 0, 0), "unknown ['sigma']"),
        (("fast", 0, 0), "bandwidth='fast' is invalid"),
    ],
)
def test_bad_values_name_attribute_value_and_range(specs, message):
    with pytest.raises(TopologyError) as err:
        assign_links(ring_graph(3), *specs)
    assert message in str(err.value)


def test_bad_existing_value_names_the_edge():
    graph = ring_graph(3)
    graph.edges[0, 1]["loss"] = 2.0
    with pytest.raises(TopologyError, match=r"edge \(0, 1\): loss=2.0 is invalid"):
        assign_links(graph, 1e6, 0, 0)


def test_validators_for_the_scenario_schema():
    assert validate_link_value("latency", 0) == 0.0
    assert validate_link_value("latency", UNIFORM) is UNIFORM
    assert validate_link_value("latency", None) is None
    with pytest.raises(TopologyError, match="loss: unknown dist 'beta'"):
        validate_link_value("loss", {"dist": "beta"})
    with pytest.raises(TopologyError, match=r"loss=\{'x': 1\} is invalid"):
        check_link_number("loss", {"x": 1})
    with pytest.raises(TopologyError, match="unknown link attribute 'jitter'"):
        validate_link_value("jitter", 1)
    with pytest.raises(TopologyError, match="bandwidth=True is invalid"):
        check_link_number("bandwidth", True)
