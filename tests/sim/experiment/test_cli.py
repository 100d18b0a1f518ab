"""End to end through the `skill-sim` CLI on scenarios/tiny.yaml: real offline backbone, real data,
real training, simulated network. The learning is cached per test session, so later tests are quick."""

import csv
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from agents.cache import integrity
from sim.experiment.cli import main

ROOT = Path(__file__).resolve().parents[3]
TINY = str(ROOT / "scenarios" / "tiny.yaml")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, cache):
    out = tmp_path_factory.mktemp("run")
    code = main(["run", TINY, "--out", str(out), "--cache", cache, "--quiet"])
    return code, out


def test_run_writes_the_results_contract(tiny_run):
    code, out = tiny_run
    assert code == 0
    r = json.loads((out / "results.json").read_text())
    for key in ("scenario", "seed", "agents", "tasks", "alpha", "makespan_s", "single_agent_s", "speedup",
                "efficiency", "teacher_macs", "student_macs", "bytes_sent", "bytes_delivered", "alpha_cost",
                "accuracy", "mapper_accuracy", "oracle_accuracy", "tasks_lost", "coverage_final", "per_agent"):
        assert key in r, key
    assert (r["agents"], r["tasks"]) == (4, 8)
    assert len(r["per_agent"]) == 4 and all(p["tasks_known"] == 8 for p in r["per_agent"])
    assert r["coverage_final"] == 1.0 and r["tasks_lost"] == 0
    assert 0 < r["makespan_s"] < r["single_agent_s"]
    assert r["speedup"] == pytest.approx(r["single_agent_s"] / r["makespan_s"])
    assert r["speedup"] <= r["speedup_bound"] + 1e-9  # no run beats free communication
    assert r["alpha_cost"] == pytest.approx(r["teacher_macs"] + r["student_macs"] + 1000 * r["bytes_sent"], rel=1e-9)
    # real learning on real data: far above chance (tasks have 2..6 classes and 8 tasks)
    assert r["oracle_accuracy"] > 0.6 and r["mapper_accuracy"] > 0.5 and r["accuracy"] > 0.4
    assert r["accuracy"] <= r["oracle_accuracy"] + 1e-9
    for name in ("scenario.yaml", "events.csv", "coverage.png", "topology.png", "topology.graphml", "timeline.png",
                 "link_bytes.png", "full_knowledge.png"):
        assert (out / name).is_file(), name


def test_rerun_reuses_learning_and_is_identical(tiny_run, cache, tmp_path):
    _, first = tiny_run
    assert main(["run", TINY, "--out", str(tmp_path), "--cache", cache, "--quiet"]) == 0
    a = json.loads((first / "results.json").read_text())
    b = json.loads((tmp_path / "results.json").read_text())
    assert b["learning"]["cached_tasks"] == 8
    for key in ("makespan_s", "speedup", "bytes_sent", "accuracy", "teacher_macs"):
        assert a[key] == b[key], key


def test_sweep_reuses_learning_and_speedup_falls_with_alpha(cache, tmp_path):
    assert main(["sweep", TINY, "--alpha", "10,1e4,1e7", "--out", str(tmp_path), "--cache", cache, "--quiet"]) == 0
    sweep = json.loads((tmp_path / "sweep.json").read_text())
    speedups = [r["speedup"] for r in sorted(sweep["rows"], key=lambda r: r["alpha"])]
    assert speedups[0] > speedups[1] > speedups[2]
    # alpha = 10 prices bytes at almost nothing: the speedup is the free-communication bound
    bound = json.loads((tmp_path / "alpha-10" / "results.json").read_text())["speedup_bound"]
    assert speedups[0] == pytest.approx(bound, rel=0.05)
    assert (tmp_path / "sweep.csv").read_text().splitlines()[0] == \
        "scenario,topology,agents,protocol,seed,alpha,speedup,efficiency,makespan_s,alpha_cost,bytes_sent,speedup_bound,accuracy,"\
        "accuracy_auc,reuse_tasks,reuse_epochs_saved,reuse_macs_saved"  # empty without evaluation / reuse
    assert (tmp_path / "speedup_vs_alpha.png").is_file()
    # each alpha-* run is data only (drawing every alpha of a large sweep costs time); report draws it
    assert not list((tmp_path / "alpha-10").glob("*.png"))
    assert main(["report", str(tmp_path / "alpha-10"), "--quiet"]) == 0
    assert {"coverage.png", "timeline.png"} <= {p.name for p in (tmp_path / "alpha-10").glob("*.png")}
    assert main(["report", str(tmp_path), "--quiet"]) == 0  # the sweep still reads back whole


def test_report_rerenders_a_finished_run(tiny_run, capsys):
    _, out = tiny_run
    (out / "coverage.png").unlink()
    assert main(["report", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["scenario"] == "tiny"
    assert (out / "coverage.png").is_file()


def test_without_events_csv_the_timeline_is_skipped_and_report_says_so(cache, tmp_path, capsys):
    args = ["--out", str(tmp_path), "--cache", cache, "--quiet", "--set", "output.events_csv=false"]
    assert main(["run", TINY, *args]) == 0
    assert not (tmp_path / "events.csv").exists() and not (tmp_path / "timeline.png").exists()
    assert (tmp_path / "coverage.png").is_file() and (tmp_path / "link_bytes.png").is_file()
    capsys.readouterr()
    assert main(["report", str(tmp_path)]) == 0
    assert "timeline.png skipped: no events.csv" in capsys.readouterr().err


def test_validate_and_list(capsys):
    assert main(["validate", TINY, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["agents"]["count"] == 4
    for what in ("topologies", "protocols", "suites", "scenarios"):
        assert main(["list", what, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)


def test_bad_inputs_exit_2_with_a_clear_message(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    assert "no such scenario file" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("agents: {cout: 3}\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "agents.cout" in err and "count" in err and "Traceback" not in err
    assert main(["run", TINY, "--set", "tasks.suite=nope", "--quiet"]) == 2
    assert "tasks.suite" in capsys.readouterr().err
    assert main(["report", str(tmp_path)]) == 2
    assert "no results.json" in capsys.readouterr().err


def test_failures_are_reported_and_marked(cache, tmp_path):
    crash = "failures.agents.scheduled=[{agent: 2, at_s: 0.0}]"
    outage = "failures.links.scheduled=[{edge: [0, 1], start_s: 0.0, end_s: 0.05}]"
    assert main(["run", TINY, "--out", str(tmp_path), "--cache", cache, "--quiet", "--set", crash, "--set", outage]) == 0
    r = json.loads((tmp_path / "results.json").read_text())
    assert [p["alive"] for p in r["per_agent"]] == [True, True, False, True]
    assert r["per_agent"][2]["accuracy"] is None
    # agent 2 died before learning anything: its two tasks never existed at a survivor, and
    # coverage counts them as unknown (6 of 8 tasks at each of the 3 survivors)
    assert r["tasks_lost"] == 2 and r["coverage_final"] == pytest.approx(6 / 8)
    assert r["simulation"]["coverage"][-1][1] == pytest.approx(6 / 8)  # the plotted curve ends where the summary does
    incidents = r["incidents"]
    assert sorted((i["kind"], i["time_s"], i["agent"], i["edges"]) for i in incidents["listed"]) == [
        ("crashed", 0.0, 2, None), ("link_down", 0.0, None, [[0, 1]]), ("link_up", 0.05, None, [[0, 1]])]
    assert incidents["total"] == 3 and not incidents["truncated"]
    assert incidents["by_kind"] == {"crashed": 1, "recovered": 0, "link_down": 1, "link_up": 1}
    with open(tmp_path / "events.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {"transfer", "banked", "crashed", "link_down", "link_up"} <= {row["kind"] for row in rows}
    links = [(row["kind"], row["link_u"], row["link_v"], row["outcome"]) for row in rows if row["kind"].startswith("link")]
    assert links == [("link_down", "0", "1", "scheduled"), ("link_up", "0", "1", "scheduled")]
    crash = [row for row in rows if row["kind"] == "crashed"]
    assert [(c["agent"], c["outcome"]) for c in crash] == [("2", "")]  # no recovery: the bank's fate is moot
    graphml = (tmp_path / "topology.graphml").read_text()
    assert 'attr.name="outage"' in graphml and 'attr.name="alive"' in graphml


def test_a_run_that_never_reaches_full_knowledge_reports_no_speedup(cache, tmp_path, capsys):
    # the ring 0-1-2-3-0 loses 1 and 3 at the start: 0 and 2 live on, each never getting the other's tasks
    crashes = "failures.agents.scheduled=[{agent: 1, at_s: 0.0}, {agent: 3, at_s: 0.0}]"
    out = tmp_path / "run"
    assert main(["run", TINY, "--out", str(out), "--cache", cache, "--set", crashes]) == 0
    r = json.loads((out / "results.json").read_text())
    assert r["makespan_s"] is None and r["speedup"] is None and r["efficiency"] is None
    assert r["single_agent_s"] > 0
    summary = capsys.readouterr().out
    speedup_line = next(line for line in summary.splitlines() if "speedup" in line and "efficiency" in line)
    assert "—" in speedup_line and "efficiency — " in speedup_line and "0.00" not in speedup_line


def test_bytes_are_whole_except_what_a_cut_flow_sent_which_events_csv_rounds(cache, tmp_path):
    # a cut flow sent rate x time bytes, a fraction included: results.json keeps the exact total,
    # events.csv rounds each flow to whole bytes (within half a byte per cut flow of it)
    mid = "failures.links.scheduled=[{edge: [0, 1], start_s: 0.033, end_s: 0.05}]"  # during the first 0-1 flow (0.0325-0.0337 s)
    assert main(["run", TINY, "--out", str(tmp_path), "--cache", cache, "--quiet", "--set", mid]) == 0
    r = json.loads((tmp_path / "results.json").read_text())
    with open(tmp_path / "events.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["kind"] == "transfer"]
    cut = len({row["transfer"] for row in rows if row["outcome"] == "cut"})
    assert cut > 0 and r["bytes_sent"] != int(r["bytes_sent"])
    assert abs(sum(int(row["bytes"]) for row in rows) - r["bytes_sent"]) <= 0.5 * cut


def test_the_compiled_engine_writes_the_same_results_and_events_as_simpy(tiny_run, cache, tmp_path):
    """runner -> compiled loop -> results.json / events.csv, against the SimPy run of the same
    scenario (tiny is below the size where `auto` takes the loop, so the engine is forced)."""
    _, simpy_out = tiny_run
    compiled_out = tmp_path / "compiled"
    assert main(["run", TINY, "--set", "engine=compiled", "--out", str(compiled_out), "--cache", cache, "--quiet"]) == 0
    a = json.loads((simpy_out / "results.json").read_text())
    b = json.loads((compiled_out / "results.json").read_text())
    assert (a["simulation"]["engine"], b["simulation"]["engine"]) == ("simpy", "compiled")
    for r in (a, b):  # what may differ: wall clocks, the engine's name and its event count
        for key in ("wall_s", "engine", "events"):
            r["simulation"].pop(key)
        r["learning"].pop("wall_s"), r["learning"].pop("cached_tasks")
        r.pop("scenario_file", None), r.pop("run_id")
    assert (a.pop("overrides"), b.pop("overrides")) == ([], ["engine=compiled"])  # what made each run
    assert a == b
    assert (simpy_out / "events.csv").read_text() == (compiled_out / "events.csv").read_text()


def test_forcing_the_compiled_engine_where_it_does_not_apply_is_a_clear_error(cache, tmp_path, capsys):
    code = main(["run", TINY, "--set", "engine=compiled", "--set", "gossip.protocol=push",
                 "--out", str(tmp_path), "--cache", cache, "--quiet"])
    assert code == 2
    assert "engine='compiled' does not model this run (gossip.protocol='push')" in capsys.readouterr().err


def _summary(results: dict, out) -> str:
    """The summary table of `results` as plain text, wide enough that no cell wraps."""
    import io

    from rich.console import Console

    from sim.experiment.report import print_summary

    buffer = io.StringIO()
    print_summary(Console(file=buffer, width=250, color_system=None), results, out)
    return buffer.getvalue()


def test_wall_timing_says_what_it_measured_and_refuses_times_from_another_machine(tiny_run, cache, tmp_path, capsys):
    _, macs_out = tiny_run
    assert json.loads((macs_out / "results.json").read_text())["timing"] == "macs"
    wall_out = tmp_path / "wall"
    assert main(["run", TINY, "--set", "timing=wall", "--out", str(wall_out), "--cache", cache, "--quiet"]) == 0
    r = json.loads((wall_out / "results.json").read_text())
    block = r["wall_timing"]
    assert r["timing"] == "wall" and (block["tasks_learned_this_run"], block["tasks_learned_from_cache"]) == (0, 8)
    assert len(block["machines"]) == 1 and block["machines"][0]["tasks"] == 8
    assert r["single_agent_s"] == pytest.approx(sum(block["seconds_by_phase"].values()))
    assert "measured on " in _summary(r, wall_out) and "0 tasks learned now, 8 from the cache" in _summary(r, wall_out)
    # one stored result now says its head was trained on another host: the run refuses to mix them.
    # On a cache of its own (features copied, results learned here), so every result is one of tiny's.
    own = str(tmp_path / "cache")
    shutil.copytree(cache, own, ignore=shutil.ignore_patterns("results", "claims"))
    cache = own
    assert main(["run", TINY, "--out", str(tmp_path / "learn"), "--cache", cache, "--quiet"]) == 0
    entry = sorted((Path(cache) / "results").glob("*.json"))[0]
    original = entry.read_text()
    meta = json.loads(original)
    meta["wall_measured"]["learning"]["host"] = "another-host"
    # sealed as that host would have written it (an edited record alone is refused as bad)
    meta = integrity.seal_bytes({k: v for k, v in meta.items() if k != "integrity"}, kind="result",
                                key=entry.stem, content=entry.with_suffix(".pkg").read_bytes())
    entry.write_text(json.dumps(meta))
    try:
        capsys.readouterr()
        assert main(["run", TINY, "--set", "timing=wall", "--out", str(tmp_path / "mixed"), "--cache", cache,
                     "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "another-host" in err and "--set timing=macs" in err and "Traceback" not in err
        # counted MACs do not depend on the machine: the same cache is fine for them
        assert main(["run", TINY, "--out", str(tmp_path / "macs"), "--cache", cache, "--quiet"]) == 0
    finally:
        entry.write_text(original)


@pytest.mark.parametrize("relearn", [False, True])
def test_a_wiped_agent_loses_its_tasks_unless_it_relearns_them(cache, tmp_path, relearn):
    # alpha 1e12 makes a ~70 KB package take ~1e6 s on a link: agent 0 has learned its tasks 0 and
    # 4 (in under a second) but none has left when it crashes at 100 s; it is back, wiped, at 200 s
    crash = "failures.agents.scheduled=[{agent: 0, at_s: 100.0, recover_at_s: 200.0, keep_bank: false}]"
    args = ["run", TINY, "--alpha", "1e12", "--set", crash, "--set", f"failures.relearn_after_wipe={str(relearn).lower()}",
            "--out", str(tmp_path), "--cache", cache, "--quiet"]
    assert main(args) == 0
    r = json.loads((tmp_path / "results.json").read_text())
    assert all(p["alive"] for p in r["per_agent"])
    if relearn:
        assert r["tasks_lost"] == 0 and r["tasks_lost_by_cause"] == {"wiped": 0, "holders_died": 0, "never_learned": 0}
        assert all(p["tasks_known"] == 8 for p in r["per_agent"])
        assert "tasks lost: 0 " in _summary(r, tmp_path) + " "
    else:
        assert r["tasks_lost"] == 2 and r["tasks_lost_ids_by_cause"]["wiped"] == [0, 4]
        assert r["tasks_lost_by_cause"] == {"wiped": 2, "holders_died": 0, "never_learned": 0}
        assert "tasks lost: 2 (wiped, not relearned 2)" in _summary(r, tmp_path)


# -- run directories (issue 10, items 10-13) ---------------------------------------------------


def strict_json(path):
    """Parse a file as strict JSON: NaN / Infinity tokens raise."""
    def refuse(token):
        raise ValueError(f"{path.name}: non-standard JSON token {token}")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_run_and_sweep_files_honour_the_umask(cache, tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        assert main(["sweep", TINY, "--alpha", "1000", "--out", str(tmp_path / "s"), "--cache", cache, "--quiet"]) == 0
    finally:
        os.umask(old)
    sweep, run = tmp_path / "s", tmp_path / "s" / "alpha-1000"
    for path in [sweep / n for n in ("sweep.json", "sweep.csv", "scenario.yaml", "manifest.json")] + \
                [run / n for n in ("results.json", "events.csv", "scenario.yaml", "manifest.json", "topology.graphml")]:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path  # 0666 & ~umask
    assert stat.S_IMODE(sweep.stat().st_mode) == 0o777 & ~mask


def test_churn_keeps_results_json_strict_and_small_with_every_incident_in_events_csv(cache, tmp_path):
    churn = ["--set", "failures.agents.random={mtbf_s: 0.002, mttr_s: 0.001}",
             "--set", "failures.links.random={mtbf_s: 0.002, mttr_s: 0.001}",
             "--set", "failures.horizon_s=2"]  # failures at this rate never let the run settle by themselves
    assert main(["run", TINY, "--out", str(tmp_path), "--cache", cache, "--quiet", *churn]) == 0
    r = strict_json(tmp_path / "results.json")
    incidents = r["incidents"]
    with open(tmp_path / "events.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    agent_rows = [row for row in rows if row["kind"] in ("crashed", "recovered")]
    link_rows = [row for row in rows if row["kind"] in ("link_down", "link_up")]  # one edge per random outage
    assert incidents["total"] == len(agent_rows) + len(link_rows) > 1000
    assert incidents["by_kind"]["crashed"] == sum(row["kind"] == "crashed" for row in rows)
    assert incidents["truncated"] and len(incidents["listed"]) == 1000
    assert (tmp_path / "results.json").stat().st_size < 1_000_000
    assert all(int(row["link_u"]) < int(row["link_v"]) and row["outcome"] == "random" for row in link_rows)
    assert {row["outcome"] for row in agent_rows} == {"bank kept"}  # the default keep_bank: true


def test_an_interrupted_rerun_leaves_the_previous_run_whole(tiny_run, cache, tmp_path, monkeypatch):
    import shutil

    from sim.experiment import events_table

    out = tmp_path / "run"
    shutil.copytree(tiny_run[1], out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(path, result, sizes):
        path.write_text("time_s,kind\n")  # half a file, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(events_table, "write_events", interrupted)
    assert main(["run", TINY, "--seed", "7", "--out", str(out), "--cache", cache, "--quiet"]) == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no half-written run left beside it
    assert main(["report", str(out), "--quiet"]) == 0


def test_a_killed_runs_staging_folder_is_cleared_by_the_next_run_into_the_same_out(tiny_run, cache, tmp_path):
    import shutil

    from sim.experiment import rundir

    out = tmp_path / "run"
    shutil.copytree(tiny_run[1], out)
    child = os.fork()  # a pid that no process has any more: the SIGKILLed run's
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    stale = tmp_path / f".run.new-4b89a264-{child}-{rundir._host_key()}"
    stale.mkdir()
    (stale / "scenario.yaml").write_text("seed: 1\n")  # as far as the killed run got
    assert main(["run", TINY, "--out", str(out), "--cache", cache, "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_report_refuses_a_mixed_run_directory_naming_the_stale_file(tiny_run, tmp_path, capsys):
    import shutil

    out = tmp_path / "run"
    shutil.copytree(tiny_run[1], out)
    scenario = out / "scenario.yaml"
    scenario.write_text(scenario.read_text().replace("seed: ", "seed: 1", 1))  # a new run's scenario.yaml
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert "scenario.yaml" in err and "rerun" in err and "Traceback" not in err
    shutil.rmtree(out)
    shutil.copytree(tiny_run[1], out)
    r = json.loads((out / "results.json").read_text())
    (out / "results.json").write_text(json.dumps({**r, "run_id": "0" * 32}))  # results of another run
    assert main(["report", str(out)]) == 2
    assert "results.json: from run 0000" in capsys.readouterr().err


def test_report_reads_an_old_run_directory_with_a_note(tiny_run, tmp_path, capsys):
    import shutil

    out = tmp_path / "old"
    shutil.copytree(tiny_run[1], out)
    (out / "manifest.json").unlink()
    r = json.loads((out / "results.json").read_text())
    del r["run_id"]
    (out / "results.json").write_text(json.dumps(r))
    assert main(["report", str(out)]) == 0
    assert "no manifest.json" in capsys.readouterr().err


def test_out_that_is_a_file_or_a_foreign_folder_is_refused_before_learning(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    for out in ("f", "mine"):
        assert main(["run", TINY, "--out", str(tmp_path / out), "--cache", str(tmp_path / "cold"), "--quiet"]) == 2
        assert str(tmp_path / out) in capsys.readouterr().err
    assert not (tmp_path / "cold").exists()  # refused before any learning
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_a_sweep_says_where_efficiency_crosses_half_from_its_rows_and_that_it_is_interpolated(tmp_path):
    from io import StringIO

    from rich.console import Console

    from sim.experiment.report import print_sweep

    def row(alpha, efficiency):
        return {"alpha": alpha, "speedup": 4 * efficiency, "efficiency": efficiency, "makespan_s": 1.0,
                "alpha_cost": 1.0, "bytes_sent": 1.0}

    sweep = {"scenario": "s", "agents": 4, "topology": "ring"}
    # 0.75 at 10 and 0.25 at 1000: 0.5 is half-way in log alpha, at 100; no grid point sits there
    for rows, said in (([row(10.0, 0.75)], "efficiency does not cross 0.5 within the grid"),
                       ([row(10.0, 0.75), row(1000.0, 0.25)],
                        "efficiency crosses 0.5 at α ~1e2, interpolated in log α between 1e1 and 1e3")):
        buffer = StringIO()
        print_sweep(Console(file=buffer, width=200), {**sweep, "rows": rows}, tmp_path)
        assert said in buffer.getvalue()
        assert "not within the grid" not in buffer.getvalue()
    assert "add alphas between 1e1 and 1e3" in buffer.getvalue()  # a wide bracket: how to pin it down


def test_a_reuse_sweep_shows_tasks_reused_and_accuracy_by_alpha_at_80_columns(tmp_path):
    """With reuse on, what is learned depends on alpha: those two columns replace bytes sent, and
    the table still fits 80 columns without cutting a number."""
    from io import StringIO

    from rich.console import Console

    from sim.experiment.report import print_sweep

    def row(alpha, reused, accuracy):
        return {"alpha": alpha, "speedup": 37.91, "efficiency": 0.743, "makespan_s": 0.97, "alpha_cost": 3.317e12,
                "bytes_sent": 1.476e9, "reuse_tasks": reused, "accuracy": accuracy}

    sweep = {"scenario": "ring_51_reuse", "agents": 51, "topology": "ring"}
    buffer = StringIO()
    print_sweep(Console(file=buffer, width=80), {**sweep, "rows": [row(1e3, 13, 0.9166), row(1e4, 4, 0.9197)]},
                tmp_path)
    lines = buffer.getvalue().splitlines()
    assert "reused" in lines[2] and "accuracy" in lines[2] and "bytes sent" not in buffer.getvalue()
    assert [line.split("│")[6:8] for line in lines if line.startswith("│")] == [
        ["     13 ", "   91.7 % "], ["      4 ", "   92.0 % "]]
    assert "…" not in buffer.getvalue()
    buffer = StringIO()  # reuse off (no reuse_tasks): bytes sent as before
    print_sweep(Console(file=buffer, width=80), {**sweep, "rows": [{**row(1e3, None, 0.92)}]}, tmp_path)
    assert "bytes sent" in buffer.getvalue() and "reused" not in buffer.getvalue()
