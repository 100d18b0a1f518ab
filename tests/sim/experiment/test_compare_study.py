"""`skill-sim compare` of study directories: two studies, a study beside a sweep and a run, and a
study folder whose summary.csv or study.json is missing or corrupt. The studies are made by
`skill-sim study` on tiny.yaml; expected means are recomputed by hand from each study.csv."""

import csv
import json
import shutil
import statistics
from pathlib import Path

import pytest

from sim.experiment.cli import main

ROOT = Path(__file__).resolve().parents[3]
TINY = ROOT / "scenarios" / "tiny.yaml"
STUDIES = {  # name -> the study file's axes and seeds
    "alphas": "axes:\n  alpha: [100, 10000]\nseeds: [0]\n",  # 2 cells, one line
    "grid": "axes:\n  topology.family: [ring, full]\n  alpha: [100, 10000]\nseeds: [0, 1]\n",  # 8 cells, 2 lines
    "topologies": "axes:\n  topology.family: [ring, full]\nseeds: [0]\n",  # 2 cells, no alpha axis: points
}


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # rich wraps table cells to the terminal's width


@pytest.fixture(scope="module")
def made(tmp_path_factory, cache):
    """The three studies, a sweep and a run of tiny, each through the CLI."""
    root = tmp_path_factory.mktemp("compare_study")
    for name, body in STUDIES.items():
        (root / f"{name}.yaml").write_text(f"name: {name}\nbase: {TINY}\n{body}")
        assert main(["study", str(root / f"{name}.yaml"), "--out", str(root / name), "--cache", cache, "--quiet"]) == 0
    assert main(["sweep", str(TINY), "--alpha", "1e2,1e3,1e4", "--out", str(root / "sweep"), "--cache", cache,
                 "--quiet"]) == 0
    assert main(["run", str(TINY), "--out", str(root / "run"), "--cache", cache, "--quiet"]) == 0
    return root


def cells(study: Path) -> list[dict[str, str]]:
    with open(study / "study.csv", newline="") as f:
        return list(csv.DictReader(f))


def mean_of(study: Path, metric: str, **axes: str) -> float:
    """The mean over seeds of one metric of study.csv's rows with these axis values (by hand)."""
    rows = [r for r in cells(study) if all(r[a.replace("__", ".")] == v for a, v in axes.items())]
    assert rows, axes
    return statistics.mean(float(r[metric]) for r in rows)


def compare_json(capsys, *argv: str) -> dict:
    assert main(["compare", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_two_studies_give_one_curve_per_other_axis_value_with_seed_means(made, tmp_path, capsys):
    data = compare_json(capsys, str(made / "alphas"), str(made / "grid"), "--out", str(tmp_path))
    compared = data["compared"]
    assert [c["label"] for c in compared] == ["alphas", "grid · topology.family=ring", "grid · topology.family=full"]
    assert {c["kind"] for c in compared} == {"study"}
    assert [c["topology"] for c in compared] == ["ring", "ring", "full"]
    assert [c["seeds"] for c in compared] == [[1], [2], [2]]  # grid pools seeds 0 and 1
    for c, family in zip(compared[1:], ("ring", "full")):
        assert [r["alpha"] for r in c["rows"]] == [100.0, 10000.0]
        for r in c["rows"]:
            alpha = str(int(r["alpha"]))
            for metric in ("speedup", "efficiency", "makespan_s", "alpha_cost"):
                expected = mean_of(made / "grid", metric, topology__family=family, alpha=alpha)
                assert r[metric] == pytest.approx(expected, rel=1e-12), (family, alpha, metric)
    one = cells(made / "alphas")
    assert [r["speedup"] for r in compared[0]["rows"]] == pytest.approx([float(r["speedup"]) for r in one])
    assert (tmp_path / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_table_shows_each_line_and_its_speedup_by_alpha(made, tmp_path, capsys):
    assert main(["compare", str(made / "alphas"), str(made / "grid"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "grid · topology.family=full" in out and "mean of 2 seeds" in out and "mean of 1 seed " in out
    assert "speedup (efficiency) by α" in out
    s = mean_of(made / "grid", "speedup", topology__family="full", alpha="10000")
    e = mean_of(made / "grid", "efficiency", topology__family="full", alpha="10000")
    assert f"{s:.2f} ({e:.3f})" in out
    bytes_sent = sorted(float(r["bytes_sent"]) for r in cells(made / "alphas"))  # a range over alpha, or one value
    shown = f"{bytes_sent[0]:.3e}" if bytes_sent[0] == bytes_sent[-1] else f"{bytes_sent[0]:.3e} … {bytes_sent[-1]:.3e}"
    assert shown in out


def test_a_study_beside_a_sweep_and_a_run_on_one_figure(made, tmp_path, capsys):
    data = compare_json(capsys, str(made / "grid"), str(made / "sweep"), str(made / "run"), "--out", str(tmp_path))
    kinds = [(c["kind"], c["label"]) for c in data["compared"]]
    assert kinds == [("study", "grid · topology.family=ring"), ("study", "grid · topology.family=full"),
                     ("sweep", "tiny · sweep"), ("run", "tiny · run")]
    sweep = json.loads((made / "sweep" / "sweep.json").read_text())
    assert [r["speedup"] for r in data["compared"][2]["rows"]] == [r["speedup"] for r in sweep["rows"]]
    assert (tmp_path / "compare.png").is_file()


def test_a_study_without_an_alpha_axis_gives_one_point_per_combination(made, tmp_path, capsys):
    data = compare_json(capsys, str(made / "topologies"), str(made / "run"), "--out", str(tmp_path))
    study = data["compared"][:2]
    assert [c["label"] for c in study] == ["topologies · topology.family=ring", "topologies · topology.family=full"]
    for c, family in zip(study, ("ring", "full")):
        assert "rows" not in c and c["topology"] == family
        for metric in ("speedup", "efficiency", "makespan_s", "bytes_sent", "survivors", "alpha"):
            assert c[metric] == pytest.approx(mean_of(made / "topologies", metric, topology__family=family))
    assert main(["compare", str(made / "topologies"), str(made / "run"), "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    full = mean_of(made / "topologies", "speedup", topology__family="full")
    assert f"{full:.2f}" in captured.out
    assert "no one coverage curve" in captured.out + captured.err  # all points: the coverage figure says what it left out


def test_two_copies_of_one_study_are_told_apart_by_folder(made, tmp_path, capsys):
    shutil.copytree(made / "alphas", tmp_path / "again")
    data = compare_json(capsys, str(made / "alphas"), str(tmp_path / "again"), "--out", str(tmp_path))
    assert [c["label"] for c in data["compared"]] == ["alphas · alphas", "alphas · again"]


def _broken(made: Path, tmp_path: Path, breaks) -> Path:
    folder = tmp_path / "broken"
    shutil.copytree(made / "alphas", folder)
    breaks(folder)
    return folder


def _refused(capsys, *argv: str) -> str:
    code = main(["compare", *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("breaks, says", [
    (lambda f: (f / "summary.csv").unlink(), "summary.csv: missing"),
    (lambda f: (f / "summary.csv").write_text(""), "not a study summary"),
    (lambda f: (f / "summary.csv").write_text("alpha,seeds,speedup_mean\n100,1,3.2\n"), "no efficiency_mean column"),
    (lambda f: (f / "summary.csv").write_text("alpha,seeds,speedup_mean,efficiency_mean\n100,1,fast,0.8\n"),
     "line 2, column speedup_mean: 'fast' is not a number"),
    (lambda f: (f / "summary.csv").write_text("alpha,seeds,speedup_mean,efficiency_mean\n100,1\n"),
     "line 2 has 2 cells, the header 4"),
    (lambda f: (f / "summary.csv").write_bytes(b"\xff\xfe\x00bad"), "not a readable CSV table"),
])
def test_a_study_whose_summary_is_missing_or_corrupt_is_refused_naming_it(made, tmp_path, capsys, breaks, says):
    folder = _broken(made, tmp_path, breaks)
    err = _refused(capsys, str(made / "grid"), str(folder), "--out", str(tmp_path / "figs"))
    assert str(folder / "summary.csv") in err and says in err, err
    assert "skill-sim report" in err
    assert not (tmp_path / "figs").exists()  # nothing drawn, no folder made


@pytest.mark.parametrize("breaks, says", [
    (lambda f: (f / "study.json").unlink(), "study.json: missing"),
    (lambda f: (f / "study.json").write_text("{"), "study.json: not valid JSON"),
    (lambda f: (f / "study.json").write_text("[1]"), "not a skill-sim study.json"),
])
def test_a_study_whose_study_json_is_missing_or_corrupt_is_refused_naming_it(made, tmp_path, capsys, breaks, says):
    folder = _broken(made, tmp_path, breaks)
    err = _refused(capsys, str(made / "grid"), str(folder))
    assert says in err and str(folder) in err, err


def test_a_folder_with_only_a_study_csv_is_read_as_a_study_and_refused_saying_what_is_missing(made, tmp_path, capsys):
    (tmp_path / "study.csv").write_text("seed\n0\n")
    err = _refused(capsys, str(made / "run"), str(tmp_path))
    assert f"{tmp_path / 'study.json'}: missing" in err and "skill-sim study" in err
