"""Runner pieces that need no learning: task assignment, topology building, series thinning."""

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.experiment.runner import assign_tasks, build_topology, thin
from sim.experiment.scenario import Scenario


def _scenario(**agents):
    return Scenario.model_validate({"agents": {"count": 4, **agents}})


def test_round_robin_gives_neighbours_consecutive_tasks():
    assert assign_tasks(_scenario(), [10] * 8) == [[0, 4], [1, 5], [2, 6], [3, 7]]


def test_blocks_are_contiguous_and_cover_every_task():
    blocks = assign_tasks(_scenario(assignment={"kind": "blocks"}), [10] * 10)
    assert [t for b in blocks for t in b] == list(range(10))
    assert all(b == list(range(b[0], b[-1] + 1)) for b in blocks if b)


def test_balanced_evens_out_work_with_equal_counts():
    sizes = [600, 100, 500, 200, 400, 300, 350, 250]
    dealt = assign_tasks(_scenario(assignment={"kind": "balanced"}), sizes)
    assert sorted(t for d in dealt for t in d) == list(range(8))
    assert all(len(d) == 2 for d in dealt)
    work = [sum(sizes[t] for t in d) for d in dealt]
    assert max(work) - min(work) <= 100  # round robin here gives 900 vs 450
    rr = assign_tasks(_scenario(), sizes)
    rr_work = [sum(sizes[t] for t in d) for d in rr]
    assert max(work) < max(rr_work)


def test_explicit_assignment_is_checked():
    s = _scenario(assignment={"kind": "explicit", "tasks": [[0], [1], [2], [3, 9]]})
    with pytest.raises(ScenarioError, match=r"tasks\[3\] names task 9, but tasks are 0..7"):
        assign_tasks(s, [10] * 8)
    s = _scenario(assignment={"kind": "explicit", "tasks": [[0], [0], [2], [3]]})
    with pytest.raises(ScenarioError, match="task 0 is assigned twice"):
        assign_tasks(s, [10] * 8)


def test_topology_has_link_attributes_and_is_seeded():
    s = Scenario.model_validate({"agents": {"count": 12}, "topology": {
        "family": "small_world", "params": {"k": 4, "p": 0.3},
        "links": {"bandwidth": {"dist": "uniform", "low": 1e6, "high": 1e7}}}})
    a = build_topology(s, np.random.SeedSequence(1))
    b = build_topology(s, np.random.SeedSequence(1))
    assert sorted(a.edges(data=True)) == sorted(b.edges(data=True))
    assert all(1e6 <= d["bandwidth"] <= 1e7 and d["latency"] >= 0 for _, _, d in a.edges(data=True))


def test_file_topology_must_match_agent_count(tmp_path):
    path = tmp_path / "g.edgelist"
    path.write_text("0 1\n1 2\n")
    s = Scenario.model_validate({"agents": {"count": 5}, "topology": {"family": "file", "path": str(path)}})
    with pytest.raises(ScenarioError, match="topology has 3 nodes but agents.count is 5"):
        build_topology(s, np.random.SeedSequence(0))


def test_thin_keeps_the_ends():
    series = [(float(i), i / 999) for i in range(1000)]
    out = thin(series, 100)
    assert len(out) <= 101 and out[0] == series[0] and out[-1] == series[-1]
    assert thin(series[:5], 100) == series[:5]
