"""A tiny study end to end through the CLI (tiny.yaml x 2 topologies x 2 alphas x 2 seeds): its
tables and figures, identical study.csv whichever executor and worker count, `report` re-rendering,
and a failing cell recorded while the others go on."""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import pytest

from sim.experiment.cli import main

TINY = Path(__file__).resolve().parents[4] / "scenarios" / "tiny.yaml"
STUDY = f"""\
name: tiny_grid
base: {TINY}
axes:
  topology.family: [ring, full]
  alpha: [100, 10000]
seeds: [0, 1]
"""


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def study_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("study") / "tiny_grid.yaml"
    path.write_text(STUDY)
    return path


@pytest.fixture(scope="module")
def local_two(study_file, cache, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local2") / "study"
    assert main(["study", str(study_file), "--out", str(out), "--workers", "2", "--cache", cache, "--quiet"]) == 0
    return out


def test_study_csv_is_tidy_with_axes_seed_metrics_run_dir_and_status(local_two):
    table = rows(local_two / "study.csv")
    assert len(table) == 8
    columns = list(table[0])
    assert columns[:4] == ["cell", "topology.family", "alpha", "seed"]
    for metric in ("makespan_s", "single_agent_s", "speedup", "efficiency", "speedup_bound", "alpha_cost",
                   "bytes_sent", "accuracy", "mapper_accuracy", "tasks_lost", "coverage_final", "survivors"):
        assert metric in columns
    assert columns[-3:] == ["run_dir", "status", "message"]
    assert {r["status"] for r in table} == {"ok"}
    assert {(r["topology.family"], r["alpha"], r["seed"]) for r in table} == {
        (f, a, s) for f in ("ring", "full") for a in ("100", "10000") for s in ("0", "1")}
    for r in table:  # each cell is a run directory whose results.json agrees with its row
        results = json.loads((local_two / r["run_dir"] / "results.json").read_text())
        assert results["topology"] == r["topology.family"] and results["alpha"] == float(r["alpha"])
        assert results["seed"] == int(r["seed"]) and results["speedup"] == float(r["speedup"])


def test_summary_pools_the_two_seeds(local_two):
    table = rows(local_two / "study.csv")
    summary = rows(local_two / "summary.csv")
    assert len(summary) == 4
    for s in summary:
        pair = [float(r["speedup"]) for r in table
                if (r["topology.family"], r["alpha"]) == (s["topology.family"], s["alpha"])]
        assert s["seeds"] == "2"
        assert float(s["speedup_mean"]) == pytest.approx(statistics.mean(pair))
        assert float(s["speedup_std"]) == pytest.approx(statistics.stdev(pair))
        half = 12.7062 * statistics.stdev(pair) / 2 ** 0.5  # t(0.975, 1) from a table
        assert float(s["speedup_ci95_high"]) == pytest.approx(statistics.mean(pair) + half, rel=1e-4)


def test_study_json_and_figures(local_two):
    data = json.loads((local_two / "study.json").read_text())
    assert data["axes"] == ["topology.family", "alpha"]
    assert data["counts"] == {"ok": 8} and len(data["cells"]) == 8
    assert "torch" in data["versions"] and data["study"]["seeds"] == [0, 1]
    assert set(data["figures"]) == {"speedup_efficiency_vs_alpha.png", "efficiency_heatmap.png"}
    for name in data["figures"]:
        assert (local_two / name).stat().st_size > 10_000
    assert {c["line"] for c in data["crossings"]} == {"family=ring", "family=full"}
    assert all(c["interpolated"] == "log alpha" for c in data["crossings"])


def test_identical_study_csv_with_one_worker(local_two, study_file, cache, tmp_path):
    out = tmp_path / "one"
    assert main(["study", str(study_file), "--out", str(out), "--workers", "1", "--cache", cache, "--quiet"]) == 0
    assert (out / "study.csv").read_text() == (local_two / "study.csv").read_text()


def test_identical_study_csv_on_a_local_ray_instance(local_two, study_file, cache, tmp_path):
    pytest.importorskip("ray", reason="the Ray extra is not installed (pip install 'skill-sim[ray]')")
    out = tmp_path / "ray"
    code = main(["study", str(study_file), "--out", str(out), "--executor", "ray", "--workers", "2",
                 "--cache", cache, "--quiet"])
    assert code == 0
    assert (out / "study.csv").read_text() == (local_two / "study.csv").read_text()


def test_identical_study_csv_when_ray_ships_the_learning_through_its_object_store(local_two, study_file, cache,
                                                                                  tmp_path):
    pytest.importorskip("ray", reason="the Ray extra is not installed (pip install 'skill-sim[ray]')")
    from sim.experiment.study.driver import run_study
    from sim.experiment.study.executors.ray import RayExecutor
    from sim.experiment.study.spec import load_study

    with RayExecutor(2, ship=True) as executor:  # as on a cluster: results travel, each worker installs them once
        assert executor.ships_learning
        outcome = run_study(load_study(study_file), tmp_path / "ray", executor, cache_dir=cache)
    assert outcome.exit_code == 0
    assert (tmp_path / "ray" / "study.csv").read_text() == (local_two / "study.csv").read_text()


def test_report_re_renders_a_study(local_two, capsys):
    before = (local_two / "summary.csv").read_text()
    for name in ("study.csv", "summary.csv", "speedup_efficiency_vs_alpha.png"):
        (local_two / name).unlink()
    assert main(["report", str(local_two)]) == 0
    assert (local_two / "summary.csv").read_text() == before
    assert (local_two / "speedup_efficiency_vs_alpha.png").is_file() and (local_two / "study.csv").is_file()
    assert "results in" in capsys.readouterr().out


def test_a_cell_that_fails_while_running_is_recorded_and_the_others_go_on(cache, tmp_path):
    """The driver (below the command's up-front checks): grid rows=3 cannot lay out 4 agents, so
    that cell fails as it runs (bad input) and the other finishes."""
    from sim.experiment.study.driver import run_study
    from sim.experiment.study.executors import create_executor
    from sim.experiment.study.spec import load_study

    study = tmp_path / "s.yaml"
    study.write_text(f"name: s\nbase: {TINY}\nset: {{topology.family: grid}}\n"
                     "axes:\n  topology.params: [{rows: 2}, {rows: 3}]\n")
    with create_executor("local", 1) as executor:
        outcome = run_study(load_study(study), tmp_path / "o", executor, cache_dir=Path(cache))
    assert outcome.exit_code == 2 and len(outcome.failed) == 1
    table = {r["topology.params"]: r for r in rows(tmp_path / "o" / "study.csv")}
    assert table['{"rows": 2}']["status"] == "ok" and table['{"rows": 2}']["speedup"]
    assert table['{"rows": 3}']["status"] == "bad-input" and "does not divide" in table['{"rows": 3}']["message"]


def test_the_command_refuses_such_a_cell_before_anything_runs(cache, tmp_path, capsys):
    study = tmp_path / "s.yaml"
    study.write_text(f"name: s\nbase: {TINY}\nset: {{topology.family: grid}}\n"
                     "axes:\n  topology.params: [{rows: 2}, {rows: 3}]\n")
    code = main(["study", str(study), "--out", str(tmp_path / "o"), "--workers", "1", "--cache", cache])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f'{study} (cell topology.params={{"rows": 3}} seed=0): topology: rows=3 does not divide n=4' in err
    assert not (tmp_path / "o" / "study.csv").exists()


def test_a_cell_the_run_checks_refuse_stops_the_study_before_anything_is_learned(cache, tmp_path, capsys):
    """The checks `run` makes beyond the schema (here: names matching on a suite whose class names
    never repeat) run on every cell first: exit 2 naming the study file and the cell, nothing learned."""
    study = tmp_path / "s.yaml"
    study.write_text(f"name: s\nbase: {TINY}\nset: {{learner.reuse.match: names}}\n"
                     "axes:\n  learner.reuse.enabled: [false, true]\n")
    code = main(["study", str(study), "--out", str(tmp_path / "o"), "--workers", "1", "--cache", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"{study} (cell learner.reuse.enabled=true seed=0)" in err and "learner.reuse.match" in err
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").rglob("*.npy"))  # nothing learned
    assert not (tmp_path / "o" / "study.csv").exists()
