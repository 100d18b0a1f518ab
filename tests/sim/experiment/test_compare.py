"""`skill-sim compare`: runs and sweeps side by side (table, --json, one figure), and the folders
it refuses. Through the CLI, on scenarios/tiny.yaml."""

import json
import math
from pathlib import Path

import pytest

from sim.experiment.cli import main
from sim.experiment.study.tables import metrics_of

ROOT = Path(__file__).resolve().parents[3]
TINY = str(ROOT / "scenarios" / "tiny.yaml")


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # rich wraps table cells to the terminal's width


@pytest.fixture(scope="module")
def made(tmp_path_factory, cache):
    """Two runs (ring, and full with 3 agents) and two sweeps (ring and full) of tiny."""
    root = tmp_path_factory.mktemp("compare")
    jobs = {"ring": ["run", TINY], "full": ["run", TINY, "--set", "topology.family=full", "--set", "agents.count=3"],
            "ring-timed": ["run", TINY, "--set", "evaluation.every_s=0.02"],
            "ring-reuse": ["run", TINY, "--set", "learner.reuse.enabled=true", "--set", "learner.reuse.match=visual"],
            "ring-sweep": ["sweep", TINY, "--alpha", "1e3,1e4,1e5"],
            "full-sweep": ["sweep", TINY, "--set", "topology.family=full", "--alpha", "1e3,1e4,1e5"]}
    for name, argv in jobs.items():
        assert main(argv + ["--out", str(root / name), "--cache", cache, "--quiet"]) == 0
    return root


def test_two_runs_side_by_side_as_a_table_and_a_coverage_figure(made, tmp_path, capsys):
    assert main(["compare", str(made / "ring"), str(made / "full"), "--out", str(tmp_path / "fig")]) == 0
    out = capsys.readouterr().out
    ring = json.loads((made / "ring/results.json").read_text())
    assert "tiny (topology.family=full, agents.count=3)" in out  # each column named by what made it
    assert "3 / 8" in out and "4 / 8" in out  # agents / tasks of each
    assert f"{ring['speedup']:.2f}" in out
    assert f"figure in {tmp_path / 'fig' / 'compare.png'}" in out
    assert (tmp_path / "fig" / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_has_each_folders_keys_metrics_and_the_figure(made, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no --out: the figure goes to the working directory
    assert main(["compare", str(made / "ring-sweep"), str(made / "full-sweep"), str(made / "ring"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["figure"] == "compare.png" and (tmp_path / "compare.png").is_file()
    kinds = [(c["kind"], c["topology"], c["agents"]) for c in data["compared"]]
    assert kinds == [("sweep", "ring", 4), ("sweep", "full", 4), ("run", "ring", 4)]
    # the sweeps' efficiency crossing, recomputed by hand from sweep.csv's rows in log10(alpha)
    for c, name in zip(data["compared"][:2], ("ring-sweep", "full-sweep")):
        eff = [(r["alpha"], r["efficiency"]) for r in json.loads((made / name / "sweep.json").read_text())["rows"]]
        bracket = [(p, q) for p, q in zip(eff, eff[1:]) if p[1] >= 0.5 > q[1]]
        if not bracket:
            assert c["efficiency_half_alpha"] is None
            continue
        (a0, e0), (a1, e1) = bracket[0]
        expected = 10 ** (math.log10(a0) + (e0 - 0.5) / (e0 - e1) * (math.log10(a1) - math.log10(a0)))
        assert c["efficiency_half_alpha"] == pytest.approx(expected) and c["efficiency_half_between"] == [a0, a1]
    # same scenario, no overrides: labels fall back to the folder names so they stay apart
    labels = [c["label"] for c in data["compared"]]
    assert len(set(labels)) == 3 and labels[0] == "tiny · ring-sweep" and labels[2] == "tiny · ring"


def test_a_run_with_checkpoints_shows_its_accuracy_auc_and_one_without_a_dash(made, tmp_path, capsys):
    assert main(["compare", str(made / "ring"), str(made / "ring-timed"), "--json", "--out", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    timed = json.loads((made / "ring-timed/results.json").read_text())
    assert timed["accuracy_auc"] is not None
    assert [c["accuracy_auc"] for c in data["compared"]] == [None, timed["accuracy_auc"]]
    assert main(["compare", str(made / "ring"), str(made / "ring-timed"), "--out", str(tmp_path)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "accuracy AUC" in line)
    assert "—" in row and f"{timed['accuracy_auc']:.3f}" in row


def test_a_reuse_run_shows_tasks_reused_epochs_and_macs_saved_and_one_without_dashes(made, tmp_path, capsys):
    assert main(["compare", str(made / "ring"), str(made / "ring-reuse"), "--json", "--out", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    reuse = json.loads((made / "ring-reuse/results.json").read_text())
    lessons = [r for r in reuse["reuse"]["per_lesson"] if r["completed"]]
    # by hand from the lessons: tasks that started from banked rows, and what they saved
    tasks = sum(1 for r in lessons if r["matched"])
    epochs = sum(r["epochs_decoupled"] - r["epochs"] for r in lessons)
    macs = sum(r["macs_decoupled"] - r["macs"] for r in lessons)
    assert tasks >= 1, "tiny with visual matching reuses nothing: the test needs a run that does"
    off, on = data["compared"]
    assert (off["reuse_tasks"], off["reuse_epochs_saved"], off["reuse_macs_saved"]) == (None, None, None)
    assert (on["reuse_tasks"], on["reuse_epochs_saved"], on["reuse_macs_saved"]) == (tasks, epochs, macs)
    assert metrics_of(reuse)["reuse_tasks"] == tasks and metrics_of(reuse)["reuse_macs_saved"] == macs  # studies
    assert main(["compare", str(made / "ring"), str(made / "ring-reuse"), "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    for label, value in (("tasks reused", f"{tasks:,}"), ("head epochs saved", f"{epochs:,}"),
                         ("MACs saved (reuse)", f"{macs:.3e}")):
        row = next(line for line in lines if label in line)
        assert "—" in row and value in row, row


def test_the_run_summary_has_a_reuse_line_only_with_reuse_on(made, capsys):
    reuse = json.loads((made / "ring-reuse/results.json").read_text())["reuse"]
    assert main(["report", str(made / "ring-reuse")]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "│ reuse" in line)
    assert f"{reuse['tasks_reused']} / {reuse['lessons']} tasks" in row and "classes matched by visual" in row
    assert f"{reuse['epochs_decoupled'] - reuse['epochs']:,} head epochs" in row and f"{reuse['macs_saved']:.3e}" in row
    assert main(["report", str(made / "ring")]) == 0
    assert not any("│ reuse" in line for line in capsys.readouterr().out.splitlines())


def test_sweeps_print_speedup_by_alpha_and_the_interpolated_crossing(made, tmp_path, capsys):
    assert main(["compare", str(made / "ring-sweep"), str(made / "full-sweep"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "speedup (efficiency) by α" in out
    rows = json.loads((made / "ring-sweep/sweep.json").read_text())["rows"]
    assert f"{rows[0]['speedup']:.2f} ({rows[0]['efficiency']:.3f})" in out
    assert "interpolated" in out or "not within the grid" in out


def test_quiet_still_prints_where_the_figure_is(made, tmp_path, capsys):
    assert main(["compare", str(made / "ring"), str(made / "full"), "--out", str(tmp_path), "--quiet"]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'compare.png'}\n"


def _bad(argv, capsys):
    code = main(["compare", *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    return err


def test_fewer_than_two_folders_is_refused_with_an_example(made, capsys):
    err = _bad([str(made / "ring")], capsys)
    assert "two or more" in err and "got 1" in err and "skill-sim compare runs/" in err


def test_a_missing_folder_a_file_and_a_foreign_folder_are_refused_naming_them(made, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "a.csv").write_text("1\n")
    ring = str(made / "ring")
    err = _bad([ring, str(tmp_path / "nope"), "--out", str(tmp_path / "figs")], capsys)
    assert f"{tmp_path / 'nope'}: no such folder" in err
    err = _bad([ring, str(tmp_path / "notes.txt")], capsys)
    assert "is a file, not a folder" in err
    err = _bad([ring, str(tmp_path / "other")], capsys)
    assert f"{tmp_path / 'other'}: not a skill-sim result directory" in err and "results.json (a run)" in err
    assert not (tmp_path / "compare.png").exists()  # nothing is drawn for a refused comparison
    assert not (tmp_path / "figs").exists()  # nor is a folder made for it


def test_the_same_folder_twice_and_an_out_that_is_a_file_are_refused(made, tmp_path, capsys):
    err = _bad([str(made / "ring"), str(made / "ring")], capsys)
    assert "given twice" in err
    (tmp_path / "f").write_text("x")
    err = _bad([str(made / "ring"), str(made / "full"), "--out", str(tmp_path / "f")], capsys)
    assert "--out" in err and "is a file" in err


def test_study_cells_of_one_scenario_are_labelled_by_the_axes_that_differ():
    from sim.experiment.compare import Compared, _distinct_labels

    names = ["topology.family=ring__learner.reuse.enabled=False__alpha=10000__seed=0",
             "topology.family=ring__learner.reuse.enabled=True__alpha=10000__seed=0",
             "topology.family=full__learner.reuse.enabled=True__alpha=10000__seed=0"]
    compared = [Compared(Path("study/cells") / n, "run", {}, "ring_51_reuse") for n in names]
    compared.append(Compared(Path("other"), "run", {}, "tiny"))
    _distinct_labels(compared)
    assert [c.label for c in compared] == [
        "ring_51_reuse · topology.family=ring · learner.reuse.enabled=False",
        "ring_51_reuse · topology.family=ring · learner.reuse.enabled=True",
        "ring_51_reuse · topology.family=full · learner.reuse.enabled=True",
        "tiny"]  # a label no other entry has stays as it is
