"""check_scenario: what it refuses and warns about beyond the schema, before any learning."""

from pathlib import Path

import pytest

from agents.config import STRICT as AGENTS_STRICT
from sim.config import STRICT
from sim.errors import ScenarioError
from sim.experiment import checks, footprint
from sim.experiment.loading import _all_models, validate_scenario
from sim.experiment.scenario import Scenario

BASE = {"agents": {"count": 4}, "tasks": {"suite": "digits", "num_tasks": 4}, "topology": {"family": "ring"}}


def scenario(**sections) -> Scenario:
    return validate_scenario({**BASE, **sections})


def test_every_settings_model_is_strict_and_refuses_inf_and_nan():
    assert STRICT == AGENTS_STRICT
    for model in _all_models(Scenario):
        cfg = model.model_config
        assert (cfg["strict"], cfg["allow_inf_nan"], cfg["extra"]) == (True, False, "forbid"), model


def test_a_valid_scenario_passes_with_no_warning():
    assert checks.check_scenario(scenario(), source="s.yaml") == []


@pytest.mark.parametrize("suite, num_tasks, expected", [
    ("digits", None, 5), ("textures", None, 5), ("digits", 3, 3), ("mixed", 17, 17), ("distinct", None, 102), ("distinct", 17, 17),
])
def test_suite_task_counts_come_from_the_settings(suite, num_tasks, expected):
    # digits: 10 classes in pairs; textures: 20 photos in fours; mixed, distinct: as many as asked (102 by default)
    sc = scenario(tasks={"suite": suite, "num_tasks": num_tasks})
    assert checks.suite_task_count(sc) == expected


def test_folder_suite_counts_its_task_folders(tmp_path):
    for name in ("a", "b", "c", ".hidden"):
        (tmp_path / name).mkdir()
    (tmp_path / "notes.txt").write_text("not a task")
    assert checks.suite_task_count(scenario(tasks={"suite": "folder", "path": str(tmp_path)})) == 3


def test_the_memory_check_refuses_what_does_not_fit(monkeypatch):
    sc = scenario()
    need = footprint.estimate(4, 4, 4).total  # a ring: 4 agents, 4 tasks, 4 links
    monkeypatch.setattr(footprint, "available_memory", lambda: need * 0.99)
    with pytest.raises(ScenarioError, match=r"agents.count = 4 with 4 tasks needs about .* lower agents.count"):
        checks.check_scenario(sc, source="s.yaml")
    monkeypatch.setattr(footprint, "available_memory", lambda: need * 1.01)
    assert checks.check_scenario(sc, source="s.yaml") == []


def test_a_disconnected_graph_warns_with_its_parts(tmp_path):
    (tmp_path / "g.txt").write_text("0 1\n1 2\n3 4\n")
    sc = scenario(agents={"count": 5}, tasks={"suite": "digits", "num_tasks": 5},
                  topology={"family": "file", "path": str(tmp_path / "g.txt")})
    (warning,) = checks.check_scenario(sc, source="s.yaml")
    assert "2 parts (sizes [3, 2])" in warning


def test_an_explicit_assignment_must_give_every_task_once():
    ok = {"kind": "explicit", "tasks": [[3], [1], [0, 2], []]}
    assert checks.check_scenario(scenario(agents={"count": 4, "assignment": ok}), source="s") == []
    left_out = {"kind": "explicit", "tasks": [[3], [1], [0], []]}
    with pytest.raises(ScenarioError, match=r"leaves 1 of the suite's 4 tasks to no agent \(2\)"):
        checks.check_scenario(scenario(agents={"count": 4, "assignment": left_out}), source="s")


def test_out_and_cache_must_be_folders(tmp_path):
    (tmp_path / "f").write_text("x")
    for kw in ({"out": tmp_path / "f"}, {"cache": tmp_path / "f" / "sub"}):
        with pytest.raises(ScenarioError, match="a file, not a folder"):
            checks.check_scenario(scenario(), source="s", **kw)
    assert checks.check_scenario(scenario(), source="s", out=tmp_path / "new" / "run", cache=tmp_path) == []


def test_failures_on_a_graph_built_as_the_run_builds_it():
    """small_world is random: the edge check must see the very graph the run will use."""
    from sim.experiment.topology import build_topology

    sc = scenario(agents={"count": 12}, tasks={"suite": "digits"}, topology={"family": "small_world", "params": {"k": 4}})
    graph = build_topology(sc)
    present = sorted(graph.edges())[0]
    absent = next((u, v) for u in range(12) for v in range(u + 1, 12) if not graph.has_edge(u, v))
    for edge, fails in ((present, False), (absent, True)):
        sc2 = scenario(agents={"count": 12}, tasks={"suite": "digits"},
                       topology={"family": "small_world", "params": {"k": 4}},
                       failures={"links": {"scheduled": [{"edge": list(edge), "start_s": 1, "end_s": 2}]}})
        if fails:
            with pytest.raises(ScenarioError, match=r"edge \[\d+, \d+\] is not a link"):
                checks.check_scenario(sc2, source="s")
        else:
            assert checks.check_scenario(sc2, source="s") == ["5 tasks for 12 agents: agents 5..11 learn nothing"]


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[3] / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_passes_every_check_with_no_warning(path, skill102_dir):
    from sim.experiment.loading import load_scenario

    assert checks.check_scenario(load_scenario(path), source=str(path)) == []
