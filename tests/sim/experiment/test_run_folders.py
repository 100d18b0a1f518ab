"""Where `run` and `sweep` write when overrides are given without --out: a folder of its own,
named from the overrides, so the run of the scenario file itself is never replaced; and the titles
and tables of such a run say what was overridden. Through the CLI, on scenarios/tiny.yaml."""

import csv
import json
import math
from pathlib import Path

import pytest

from sim.experiment.cli import main

ROOT = Path(__file__).resolve().parents[3]
TINY = str(ROOT / "scenarios" / "tiny.yaml")


@pytest.fixture()
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # runs/... is relative to the working directory
    return tmp_path


def test_set_without_out_writes_its_own_folder_and_leaves_the_plain_run_alone(here, cache, capsys):
    assert main(["run", TINY, "--cache", cache, "--quiet"]) == 0
    assert capsys.readouterr().out == "runs/tiny\n"
    plain = (here / "runs/tiny/results.json").read_bytes()

    assert main(["run", TINY, "--set", "agents.count=3", "--cache", cache, "--quiet"]) == 0
    assert capsys.readouterr().out == "runs/tiny+agents.count=3\n"  # printed: where it went
    assert (here / "runs/tiny/results.json").read_bytes() == plain  # untouched
    variant = json.loads((here / "runs/tiny+agents.count=3/results.json").read_text())
    assert variant["agents"] == 3 and variant["overrides"] == ["agents.count=3"]
    assert json.loads(plain)["overrides"] == []


def test_seed_and_alpha_flags_name_the_folder_too_and_the_summary_says_so(here, cache, capsys):
    assert main(["run", TINY, "--seed", "1", "--alpha", "1e2", "--cache", cache]) == 0
    captured = capsys.readouterr()
    out = here / "runs/tiny+alpha=100+seed=1"
    assert f"results in {Path('runs/tiny+alpha=100+seed=1')}" in captured.out
    assert "skill-sim · tiny (seed=1, alpha=100)" in captured.out  # the summary's title
    assert "writing runs/tiny+alpha=100+seed=1" in captured.err  # said before the run starts
    r = json.loads((out / "results.json").read_text())
    assert (r["seed"], r["alpha"], r["overrides"]) == (1, 100.0, ["seed=1", "alpha=100"])


def test_the_same_overrides_in_another_order_rewrite_the_same_folder(here, cache, capsys):
    assert main(["run", TINY, "--set", "agents.count=3", "--set", "alpha=100", "--cache", cache, "--quiet"]) == 0
    assert main(["run", TINY, "--set", "alpha=100", "--set", "agents.count=3", "--cache", cache, "--quiet"]) == 0
    assert capsys.readouterr().out.splitlines() == ["runs/tiny+agents.count=3+alpha=100"] * 2
    assert [p.name for p in (here / "runs").iterdir()] == ["tiny+agents.count=3+alpha=100"]


def test_out_and_set_output_dir_are_taken_as_given(here, cache, capsys):
    assert main(["run", TINY, "--set", "agents.count=3", "--out", "mine", "--cache", cache, "--quiet"]) == 0
    assert main(["run", TINY, "--set", "agents.count=3", "--set", "output.dir=there", "--cache", cache, "--quiet"]) == 0
    assert capsys.readouterr().out.splitlines() == ["mine", "there"]
    assert not (here / "runs").exists()


def test_a_sweep_with_overrides_gets_its_own_folder_with_join_columns_and_an_interpolated_crossing(here, cache, capsys):
    assert main(["sweep", TINY, "--set", "topology.family=full", "--alpha", "1e3,1e4,1e5", "--cache", cache]) == 0
    captured = capsys.readouterr()
    out = here / "runs/tiny+alpha=1000,10000,100000+topology.family=full-sweep"
    assert out.is_dir() and not (here / "runs/tiny-sweep").exists()
    assert "skill-sim sweep · tiny (topology.family=full)" in captured.out
    with (out / "sweep.csv").open() as f:
        rows = list(csv.DictReader(f))
    accuracy = json.loads((out / "alpha-1000/results.json").read_text())["accuracy"]
    for row in rows:  # the keys to join this sweep with others on, on every row
        assert (row["scenario"], row["topology"], row["agents"], row["protocol"], row["seed"]) == \
            ("tiny", "full", "4", "flood", "0")
        assert float(row["accuracy"]) == pytest.approx(accuracy)
    # where efficiency falls through 0.5, recomputed by hand from the table in log10(alpha)
    eff = [(float(r["alpha"]), float(r["efficiency"])) for r in rows]
    (a0, e0), (a1, e1) = next((p, q) for p, q in zip(eff, eff[1:]) if p[1] >= 0.5 > q[1])
    expected = 10 ** (math.log10(a0) + (e0 - 0.5) / (e0 - e1) * (math.log10(a1) - math.log10(a0)))
    sweep = json.loads((out / "sweep.json").read_text())
    assert sweep["efficiency_half_alpha"] == pytest.approx(expected)
    assert sweep["efficiency_half_between"] == [a0, a1]
    assert sweep["overrides"] == ["topology.family=full"]
    low, high = (f"{a:.0e}".replace("e+0", "e") for a in (a0, a1))
    assert f"interpolated in log α between {low} and {high}" in captured.out


def test_figure_titles_name_what_was_overridden(here, cache):
    import matplotlib

    matplotlib.use("Agg")
    from sim.experiment.plots import coverage, speedup
    from sim.experiment.plots.events import incidents_from_results

    assert main(["run", TINY, "--set", "agents.count=3", "--cache", cache, "--quiet"]) == 0
    r = json.loads((here / "runs/tiny+agents.count=3/results.json").read_text())
    fig = coverage.figure(r["simulation"]["coverage"], r, incidents_from_results(r))
    assert fig.axes[0].get_title().startswith("tiny (agents.count=3): coverage over time")
    rows = [{"alpha": a, "speedup": 2.0, "efficiency": 0.5, "speedup_bound": 3.0} for a in (10.0, 100.0)]
    sweep = {"scenario": "tiny", "overrides": ["seed=2"], "agents": 4, "topology": "ring", "protocol": "flood",
             "rows": rows}
    assert speedup.figure(sweep).axes[0].get_title().startswith("tiny (seed=2): speedup vs α")


@pytest.mark.parametrize("folder, expected", [("out/mine", "out/mine+seed=2"), (".", "{cwd}+seed=2"),
                                              ("/", "/tiny+seed=2")])
def test_an_output_dir_of_the_file_gets_the_suffix_too(here, folder, expected):
    import argparse

    from sim.experiment.cli import _run_dir
    from sim.experiment.loading import load_scenario

    # output.dir as if the file set it (the --set list below lacks it): only --set output.dir is taken as given
    scenario = load_scenario(TINY, ["seed=2", f"output.dir={folder}"])
    args = argparse.Namespace(out=None, overrides=[], applied=["seed=2"], alpha=None)
    assert _run_dir(args, scenario) == Path(expected.format(cwd=here.resolve()))
