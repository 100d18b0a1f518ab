"""Graphs from files: GraphML and edge-list round trips with attributes, and file errors."""

import networkx as nx
import pytest

from topologies import TopologyError, assign_links, graph_from_file, grid_graph, small_world_graph

LINKS = ("bandwidth", "latency", "loss")


def _linked(n: int = 12) -> nx.Graph:
    uniform = {"dist": "uniform", "low": 0.001, "high": 0.01}
    return assign_links(small_world_graph(n, seed=1), {"dist": "lognormal", "mean": 1e6, "sigma": 0.4}, uniform, 0.01, seed=2)


def _same(a: nx.Graph, b: nx.Graph) -> None:
    assert sorted(b.nodes) == list(range(a.number_of_nodes()))
    assert sorted(map(sorted, a.edges)) == sorted(map(sorted, b.edges))
    for u, v in a.edges:
        for name in LINKS:
            assert b.edges[u, v][name] == pytest.approx(a.edges[u, v][name])


def test_graphml_round_trip(tmp_path):
    graph = _linked()
    nx.write_graphml(graph, tmp_path / "g.graphml")
    loaded = graph_from_file(tmp_path / "g.graphml")
    _same(graph, loaded)
    assert loaded.nodes[11]["label"] == "11"
    assert loaded.graph["family"] == "file"


def test_graphml_keeps_grid_node_attributes(tmp_path):
    nx.write_graphml(grid_graph(6), tmp_path / "grid.graphml")
    loaded = graph_from_file(str(tmp_path / "grid.graphml"))
    assert loaded.nodes[4]["row"] == 1 and loaded.nodes[4]["col"] == 1


@pytest.mark.parametrize("data", [True, list(LINKS)])
def test_networkx_edgelist_round_trip(tmp_path, data):
    graph = _linked()
    nx.write_edgelist(graph, tmp_path / "g.edgelist", data=data)
    _same(graph, graph_from_file(tmp_path / "g.edgelist"))


def test_plain_and_csv_edge_lists(tmp_path):
    (tmp_path / "t.txt").write_text("# routers\nr2 r10 1e6 0.01 0\nr1 r2  # no attributes\nr3\n")
    graph = graph_from_file(tmp_path / "t.txt")
    assert [graph.nodes[i]["label"] for i in range(4)] == ["r1", "r2", "r3", "r10"]
    assert graph.edges[1, 3] == {"bandwidth": 1e6, "latency": 0.01, "loss": 0.0}
    assert graph.edges[0, 1] == {}
    (tmp_path / "t.csv").write_text("u,v,latency,bandwidth\n0,1,0.5,100\n1,2,0.25,200\n")
    graph = graph_from_file(tmp_path / "t.csv")
    assert graph.edges[0, 1] == {"latency": 0.5, "bandwidth": 100.0}


def test_file_values_survive_assign_links(tmp_path):
    (tmp_path / "t.txt").write_text("0 1 500\n1 2\n")
    graph = assign_links(graph_from_file(tmp_path / "t.txt"), 1e6, 0, 0)
    assert graph.edges[0, 1]["bandwidth"] == 500.0
    assert graph.edges[1, 2]["bandwidth"] == 1e6


def test_relabel_order_does_not_depend_on_line_order(tmp_path):
    (tmp_path / "a.txt").write_text("a b\nb c\n")
    (tmp_path / "b.txt").write_text("c b\nb a\n")
    a, b = graph_from_file(tmp_path / "a.txt"), graph_from_file(tmp_path / "b.txt")
    assert sorted(a.edges) == sorted(b.edges)
    assert [a.nodes[i]["label"] for i in a] == [b.nodes[i]["label"] for i in b]


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("x.txt", "a b 1\nb c fast\n", "x.txt, line 2: bandwidth='fast' is not a number"),
        ("x.txt", "a b 1 2 0.1 9\n", "line 1: 6 fields, at most 5"),
        ("x.txt", "a b -3\n", "line 1: bandwidth=-3.0 is invalid"),
        ("x.txt", "a b\nb a\n", "line 2: duplicate edge b-a (first on line 1)"),
        ("x.txt", "a a\n", "self-loop on node 'a'"),
        ("x.edgelist", "a b {'loss': 1}\n", "line 1: loss=1 is invalid"),
        ("x.edgelist", "a b {oops\n", "line 1: '{oops' is not a dict literal"),
        ("x.txt", "# only a comment\n", "no nodes or edges found"),
        ("x.graphml", "<graphml", "not a readable GraphML file"),
        ("x.json", "{}", "unknown topology file extension '.json': use one of"),
    ],
)
def test_bad_files_name_file_line_and_fix(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(TopologyError) as err:
        graph_from_file(tmp_path / name)
    assert message in str(err.value) and name in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(TopologyError, match="no such topology file"):
        graph_from_file(tmp_path / "nope.graphml")


def test_graphml_bad_link_value_names_the_edge(tmp_path):
    graph = nx.path_graph(3)
    graph.edges[0, 1]["latency"] = -1.0
    nx.write_graphml(graph, tmp_path / "g.graphml")
    with pytest.raises(TopologyError, match=r"g.graphml: edge \('0', '1'\): latency=-1.0 is invalid"):
        graph_from_file(tmp_path / "g.graphml")
