"""Registry: build_graph by name, parameter checks with suggestions, family listing."""

import networkx as nx
import pytest

from topologies import FAMILIES, REQUIRED, TopologyError, build_graph, family_params, list_families
from topologies.families import small_world_graph


def test_every_family_builds_by_name(tmp_path):
    nx.write_edgelist(nx.path_graph(4), tmp_path / "p.edgelist", data=False)
    for family in FAMILIES:
        params = {"path": tmp_path / "p.edgelist"} if family == "file" else {}
        graph = build_graph(family, 16 if family != "file" else 4, seed=1, **params)
        assert nx.is_connected(graph) and graph.number_of_nodes() in (16, 4)


def test_build_graph_passes_params_and_seed():
    built = build_graph("small_world", 20, seed=4, k=6, p=0.2)
    assert sorted(built.edges) == sorted(small_world_graph(20, k=6, p=0.2, seed=4).edges)
    assert build_graph("ring", 5, seed=99).number_of_edges() == 5  # seed ignored when not random


def test_unknown_family_suggests_closest():
    with pytest.raises(TopologyError) as err:
        build_graph("small_wrld", 10)
    assert "unknown topology family 'small_wrld': did you mean 'small_world'?" in str(err.value)
    assert "'erdos_renyi'" in str(err.value)


def test_unknown_param_lists_allowed():
    with pytest.raises(TopologyError) as err:
        build_graph("scale_free", 10, seed=1, M=3)
    assert "unknown parameter 'M' for family 'scale_free' (did you mean 'm'?): allowed: m" in str(err.value)
    with pytest.raises(TopologyError, match="allowed: none"):
        build_graph("ring", 10, k=2)


def test_file_family_checks_path_and_n(tmp_path):
    with pytest.raises(TopologyError, match="needs path="):
        build_graph("file", None)
    nx.write_edgelist(nx.path_graph(3), tmp_path / "p.txt", data=False)
    assert build_graph("file", None, path=tmp_path / "p.txt").number_of_nodes() == 3
    with pytest.raises(TopologyError, match="has 3 nodes but n=5"):
        build_graph("file", 5, path=tmp_path / "p.txt")


def test_family_params_and_descriptions():
    assert family_params("small_world") == {"k": 4, "p": 0.1}
    assert family_params("ring") == {}
    assert family_params("file") == {"path": REQUIRED}
    described = list_families()
    assert set(described) == set(FAMILIES)
    assert described["small_world"].startswith("small_world(n, k=4, p=0.1, seed): ")
    assert all("\n" not in line for line in described.values())
