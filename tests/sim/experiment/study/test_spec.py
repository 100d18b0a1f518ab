"""Study files: grid expansion (axes, zip groups, seeds) and bad input refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.experiment.cli import main
from sim.experiment.study.cells import expand, scenario_key
from sim.experiment.study.spec import StudyError, load_study

TINY = Path(__file__).resolve().parents[4] / "scenarios" / "tiny.yaml"


def write(tmp_path: Path, text: str, name: str = "study.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"name: s\nbase: {TINY}\n" + text)
    return path


def test_axes_form_a_full_grid_with_zip_groups_moving_together(tmp_path):
    path = write(tmp_path, """\
axes:
  topology.family: [ring, star, full]
  alpha: [10, 100]
zip:
  - {agents.count: [4, 8], agents.rate_macs_per_s: [1.0e10, 2.0e10]}
seeds: [0, 1]
""")
    cells = expand(load_study(path))
    assert len(cells) == 3 * 2 * 2 * 2  # zip is one dimension of 2 points, not 2 x 2
    pairs = {(c.scenario.agents.count, c.scenario.agents.rate_macs_per_s) for c in cells}
    assert pairs == {(4, 1e10), (8, 2e10)}
    first = cells[0]
    assert first.values == {"topology.family": "ring", "alpha": 10, "agents.count": 4, "agents.rate_macs_per_s": 1e10}
    assert first.seed == 0 and cells[1].seed == 1  # seeds innermost
    assert first.scenario.alphas == [10.0] and first.scenario.topology.family == "ring"
    assert len({c.name for c in cells}) == len(cells) and len({c.key for c in cells}) == len(cells)


def test_set_applies_to_every_cell_and_the_key_follows_the_resolved_scenario(tmp_path):
    path = write(tmp_path, "set: {gossip.protocol: push}\naxes: {alpha: [10, 100]}\n")
    cells = expand(load_study(path))
    assert {c.scenario.gossip.protocol for c in cells} == {"push"}
    # Without the override the resolved scenario differs, and so does the key.
    other = expand(load_study(write(tmp_path, "axes: {alpha: [10, 100]}\n", "other.yaml")))
    assert scenario_key(cells[0].scenario) != scenario_key(other[0].scenario)
    assert [c.key for c in expand(load_study(path))] == [c.key for c in cells]  # stable


BAD = {
    "unknown study key": ("axis:\n  alpha: [10]\n", ["study.yaml", "axis", "Did you mean 'axes'"]),
    "unknown field": ("axes:\n  topology.famly: [ring]\n", ["study.yaml", "topology.famly", "Did you mean 'family'"]),
    "value its field rejects": ("axes:\n  topology.family: [ring, rign]\n",
                                ["study.yaml", "axis topology.family = rign", "Did you mean 'ring'", "star"]),
    "negative alpha": ("axes:\n  alpha: [10, -1]\n", ["axis alpha = -1", "positive"]),
    "zip lengths differ": ("zip:\n  - {agents.count: [4, 8], alpha: [10]}\n", ["zip[0]", "same length"]),
    "value listed twice": ("axes:\n  alpha: [10, 10]\n", ["axis 'alpha'", "twice"]),
    "empty axis": ("axes:\n  alpha: []\n", ["axis 'alpha'", "no values"]),
    "seed as an axis": ("axes:\n  seed: [1, 2]\n", ["'seed'", "seeds:"]),
    "field varied twice": ("axes:\n  alpha: [10]\nzip:\n  - {alpha: [1], agents.count: [4]}\n", ["'alpha'", "twice"]),
    "bad seeds": ("seeds: [0, 0]\n", ["seeds", "twice"]),
    "through a value": ("axes:\n  alpha.x: [1]\n", ["alpha.x", "not a section"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_study_exits_2_naming_file_axis_and_value(case, tmp_path, capsys):
    text, names = BAD[case]
    path = write(tmp_path, text)
    code = main(["study", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    flat = " ".join(err.split())
    for name in names:
        assert name in flat, (name, err)
    assert not (tmp_path / "out").exists()  # refused before anything ran


def test_missing_base_and_missing_file(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nbase: nowhere.yaml\n")
    assert main(["study", str(path)]) == 2
    assert "nowhere.yaml" in capsys.readouterr().err
    assert main(["study", str(tmp_path / "absent.yaml")]) == 2
    assert "no such study file" in capsys.readouterr().err


def test_ray_executor_without_ray_exits_2_with_the_install_command(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    path = write(tmp_path, "axes: {alpha: [10]}\n")
    assert main(["study", str(path), "--executor", "ray", "--out", str(tmp_path / "o")]) == 2
    assert "pip install 'skill-sim[ray]'" in capsys.readouterr().err


def test_address_without_ray_and_unreachable_address(tmp_path, capsys):
    path = write(tmp_path, "axes: {alpha: [10]}\n")
    assert main(["study", str(path), "--address", "127.0.0.1:1"]) == 2
    assert "--executor ray" in capsys.readouterr().err
    pytest.importorskip("ray", reason="the Ray extra is not installed (pip install 'skill-sim[ray]')")
    assert main(["study", str(path), "--executor", "ray", "--address", "127.0.0.1:1", "--out", str(tmp_path / "o")]) == 2
    assert "no Ray head node answers" in capsys.readouterr().err


def test_out_that_is_not_a_study_is_refused(tmp_path, capsys):
    path = write(tmp_path, "axes: {alpha: [10]}\n")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    assert main(["study", str(path), "--out", str(tmp_path / "busy")]) == 2
    assert "not a skill-sim study" in capsys.readouterr().err
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


def test_load_study_raises_study_error(tmp_path):
    with pytest.raises(StudyError, match="unknown key"):
        load_study(write(tmp_path, "sed: [1]\n"))
