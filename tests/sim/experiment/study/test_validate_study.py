"""`skill-sim validate STUDY.yaml` knows a study from a scenario and runs the study's own checks
(the file, the base, every axis value, every cell as `run` checks it) before anything is learned:
exit 0 with a summary of cells and axes, or exit 2 naming the study file and what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sim.experiment.cli import main
from sim.experiment.study.spec import is_study_file

ROOT = Path(__file__).resolve().parents[4]
BASE = """\
name: bad
agents: {count: 4}
tasks: {suite: digits, num_tasks: 4}
topology: {family: ring}
"""


def invoke(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(tmp_path: Path, study: str) -> Path:
    (tmp_path / "base.yaml").write_text(BASE)
    (tmp_path / "study.yaml").write_text(study)
    return tmp_path / "study.yaml"


def test_the_shipped_tiny_grid_validates_with_its_cells_and_axes(capsys):
    path = ROOT / "scenarios" / "studies" / "tiny_grid.yaml"
    code, out, err = invoke(["validate", str(path)], capsys)
    assert code == 0, err
    # the file: 2 families x 2 alphas = 4 combinations, x 2 seeds = 8 cells
    assert "is a valid study: 8 cells (4 combinations x 2 seeds)" in err
    summary = yaml.safe_load(out)
    assert summary["cells"] == 8 and summary["combinations"] == 4 and summary["seeds"] == [0, 1]
    assert summary["axes"] == {"topology.family": ["ring", "full"], "alpha": [100, 10000]}
    assert "unknown key" not in out + err


def test_json_and_zip_groups(tmp_path, capsys):
    path = write(tmp_path, "name: st\nbase: base.yaml\naxes: {alpha: [10, 100, 1000]}\n"
                           "zip: [{agents.count: [4, 5], tasks.num_tasks: [4, 5]}]\nseeds: [3]\n")
    code, out, err = invoke(["validate", str(path), "--json"], capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["cells"] == 6 and summary["combinations"] == 6  # 3 alphas x 2 zipped points x 1 seed
    assert summary["zip"] == [["agents.count", "tasks.num_tasks"]]
    assert summary["axes"]["tasks.num_tasks"] == [4, 5]


@pytest.mark.parametrize("study, needles", [
    ("name: st\nbase: base.yaml\naxes: {agents.cuont: [3]}\n", ("study.yaml", "agents.cuont", "count")),
    ("name: st\nbase: base.yaml\naxes: {alpha: [10, -1]}\n", ("study.yaml", "axis alpha = -1", "alpha")),
    ("name: st\nbase: nowhere.yaml\n", ("study.yaml", "base = 'nowhere.yaml'",)),
    ("name: st\nbase: base.yaml\naxis: {alpha: [1]}\n", ("study.yaml", "axis: unknown key", "Did you mean 'axes'?")),
    # each value is valid alone, but one cell is not: a crash of agent 4 exists with 5 agents, not with 4
    ("name: st\nbase: base.yaml\nset: {failures.agents.scheduled: [{agent: 4, at_s: 1}]}\n"
     "axes: {agents.count: [5, 4]}\n", ("study.yaml (cell agents.count=4 seed=0)", "failures.agents.scheduled[0].agent")),
])
def test_a_bad_study_exits_2_naming_the_study_file(study, needles, tmp_path, capsys):
    path = write(tmp_path, study)
    code, out, err = invoke(["validate", str(path)], capsys)
    assert code == 2, out + err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    assert "Allowed here: agents, alpha" not in err  # not read as a scenario


def test_set_and_seed_are_refused_with_the_study_way_to_say_it(tmp_path, capsys):
    path = write(tmp_path, "name: st\nbase: base.yaml\n")
    for extra in (["--set", "alpha=3"], ["--seed", "2"]):
        code, _, err = invoke(["validate", str(path), *extra], capsys)
        assert code == 2 and "this is a study file" in err and "`set:`" in err


def test_a_scenario_is_not_taken_for_a_study(tmp_path):
    (tmp_path / "s.yaml").write_text(BASE + "seeds: [1]\n")  # a scenario with a typo of `seed`
    (tmp_path / "t.yaml").write_text("name: t\nbase: s.yaml\n")
    (tmp_path / "u.yaml").write_text("agents: [\n")
    assert not is_study_file(tmp_path / "s.yaml")
    assert is_study_file(tmp_path / "t.yaml")
    assert not is_study_file(tmp_path / "u.yaml") and not is_study_file(tmp_path / "none.yaml")


def test_a_kind_axis_warns_once_about_the_fields_it_drops(tmp_path, capsys):
    (tmp_path / "base.yaml").write_text(BASE + "learner: {mapper: {kind: gmmc, k: 5}}\n")
    (tmp_path / "study.yaml").write_text("name: st\nbase: base.yaml\naxes: {learner.mapper.kind: [gmmc, mahalanobis]}\n"
                                         "seeds: [0, 1]\n")
    code, out, err = invoke(["validate", str(tmp_path / "study.yaml"), "--quiet"], capsys)
    assert code == 0, err
    assert err.count("learner.mapper.kind=mahalanobis: dropped k: 5") == 1


def test_shipped_studies_are_listed_and_found_by_name_from_any_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke(["list", "studies", "--json"], capsys)
    listed = json.loads(out)
    assert code == 0 and sorted(listed) == sorted(p.stem for p in (ROOT / "scenarios" / "studies").glob("*.yaml"))
    assert listed["tiny_grid"].startswith("A first look in a few minutes")  # the file's top comment
    for name in ("tiny_grid", "tiny_grid.yaml", "scenarios/studies/tiny_grid.yaml"):
        code, out, err = invoke(["validate", name, "--json"], capsys)
        assert code == 0 and json.loads(out)["cells"] == 8, err
    code, _, err = invoke(["study", "tiny_gird", "--quiet"], capsys)
    assert code == 2 and "no such study file" in err and "tiny_grid" in err
    code, out, _ = invoke(["validate", "tiny", "--json"], capsys)  # a shipped scenario stays a scenario
    assert code == 0 and json.loads(out)["name"] == "tiny"


def test_a_study_given_to_run_and_a_scenario_given_to_study_say_which_command(tmp_path, capsys):
    path = write(tmp_path, "name: st\nbase: base.yaml\naxes: {alpha: [10, 100]}\n")
    for command in ("run", "sweep", "curves"):
        code, _, err = invoke([command, str(path), "--quiet", "--out", str(tmp_path / "o")], capsys)
        assert code == 2 and "a study file (base, axes, seeds), not a scenario" in err
        assert f"`skill-sim study {path}`" in err and "unknown key" not in err
    code, _, err = invoke(["run", "tiny_grid", "--quiet", "--out", str(tmp_path / "o")], capsys)  # by name too
    assert code == 2 and "`skill-sim study tiny_grid`" in err
    code, _, err = invoke(["study", str(tmp_path / "base.yaml"), "--quiet"], capsys)
    assert code == 2 and "a scenario, not a study" in err and "base: base.yaml" in err and "unknown key" not in err
    assert not (tmp_path / "o").exists()


def test_a_misspelt_shipped_name_gets_the_nearest(capsys):
    code, _, err = invoke(["validate", "ring51"], capsys)
    assert code == 2 and "Did you mean 'ring_51'?" in err
    code, _, err = invoke(["study", "tiny_gird"], capsys)
    assert code == 2 and "Did you mean 'tiny_grid'?" in err
