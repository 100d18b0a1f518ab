"""Run directories hold one run: built aside and swapped in whole; read back only when every file
matches the manifest of the run that wrote it."""

import json
import os
import stat

import pytest

from sim.errors import SimError
from sim.experiment import results, rundir


def write_run(folder, run_id, scenario="seed: 1\n", extra=None):
    """A minimal run directory as save_run lays it out: data files, then the manifest."""
    results.write_json(folder / "results.json", {"run_id": run_id, "scenario": "x"})
    (folder / "scenario.yaml").write_text(scenario)
    (folder / "events.csv").write_text("time_s,kind\n0.0,banked\n")
    (folder / "coverage.png").write_bytes(b"png")
    for name, text in (extra or {}).items():
        (folder / name).write_text(text)
    rundir.write_manifest(folder, run_id)


def siblings(path):
    """Everything beside `path` in its parent folder (leftover staging folders would show here)."""
    return sorted(p.name for p in path.parent.iterdir())


def test_a_new_run_replaces_the_old_one_whole(tmp_path):
    out = tmp_path / "run"
    with rundir.staged(out) as stage:
        write_run(stage, "old", extra={"old-only.txt": "gone after the rerun"})
    with rundir.staged(out) as stage:
        assert stage.parent == out.parent and stage != out
        write_run(stage, "new")
    assert sorted(p.name for p in out.iterdir()) == ["coverage.png", "events.csv", "manifest.json", "results.json", "scenario.yaml"]
    assert results.read_results(out)["run_id"] == "new"
    assert siblings(out) == ["run"]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_an_interrupted_rerun_leaves_the_old_run_intact(tmp_path, monkeypatch, exchange):
    out = tmp_path / "run"
    with rundir.staged(out) as stage:
        write_run(stage, "old")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    if not exchange:
        monkeypatch.setattr(rundir, "_exchange", lambda a, b: False)
    with pytest.raises(KeyboardInterrupt):
        with rundir.staged(out) as stage:
            (stage / "scenario.yaml").write_text("seed: 2\n")  # the new run got this far
            raise KeyboardInterrupt
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert results.read_results(out)["run_id"] == "old"
    assert siblings(out) == ["run"]  # the half-written new run is gone


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_both_swap_paths_replace_an_existing_run(tmp_path, monkeypatch, exchange):
    out = tmp_path / "run"
    with rundir.staged(out) as stage:
        write_run(stage, "old")
    if not exchange:
        monkeypatch.setattr(rundir, "_exchange", lambda a, b: False)
    with rundir.staged(out) as stage:
        write_run(stage, "new")
    assert results.read_results(out)["run_id"] == "new" and siblings(out) == ["run"]


def test_the_run_directory_honours_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        with rundir.staged(tmp_path / "run") as stage:
            write_run(stage, "a")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "run").stat().st_mode) == 0o750  # 0777 & ~027 (mkdtemp would give 0700)
    assert {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "run").iterdir() if p.suffix != ".png"} == {0o640}


def test_targets_that_a_rerun_must_not_replace_are_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SimError, match="is a file"):
        rundir.check_target(tmp_path / "file")
    with pytest.raises(SimError, match="file is a file, so no folder can be made there"):
        rundir.check_target(tmp_path / "file" / "run")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(SimError, match="not a skill-sim run"):
        with rundir.staged(tmp_path / "mine"):
            pass
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    (tmp_path / "empty").mkdir()
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "scenario.yaml").write_text("seed: 1\n")  # an old unstaged run cut short
    for ok in ("empty", "partial", "new"):
        assert rundir.check_target(tmp_path / ok) == (tmp_path / ok).resolve()


@pytest.fixture
def run(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    write_run(folder, "r1")
    return folder


def test_a_file_from_another_run_is_refused_by_name(run, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    write_run(other, "r2", scenario="seed: 2\n")
    (run / "scenario.yaml").write_bytes((other / "scenario.yaml").read_bytes())
    with pytest.raises(SimError, match=r"scenario\.yaml: changed since run r1.*rerun"):
        results.read_results(run)


def test_results_of_another_run_are_refused(run, tmp_path):
    results.write_json(run / "results.json", {"run_id": "r2", "scenario": "x"})
    with pytest.raises(SimError, match=r"results\.json: from run r2, but manifest\.json lists run r1"):
        results.read_results(run)


def test_a_missing_or_unlisted_data_file_is_refused(run):
    (run / "events.csv").unlink()
    with pytest.raises(SimError, match=r"events\.csv: listed in manifest\.json of run r1 but missing"):
        results.read_results(run)
    write_run(run, "r1")
    (run / "topology.graphml").write_text("<graphml/>")  # stale, from an older run
    with pytest.raises(SimError, match=r"topology\.graphml: not part of run r1"):
        results.read_results(run)


def test_plots_are_not_checked_since_report_redraws_them(run):
    (run / "coverage.png").write_bytes(b"another plot")
    assert results.read_results(run)["run_id"] == "r1"


def test_a_run_id_without_its_manifest_is_refused(run):
    (run / "manifest.json").unlink()
    with pytest.raises(SimError, match=r"manifest\.json: missing"):
        results.read_results(run)


def test_an_old_run_without_manifest_or_id_is_read_with_a_note(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps({"scenario": "x"}))
    notes = []
    assert results.read_results(tmp_path, note=notes.append) == {"scenario": "x"}
    assert len(notes) == 1 and "no manifest.json" in notes[0] and "not checked" in notes[0]


def test_a_sweep_manifest_covers_its_alpha_runs(tmp_path):
    with rundir.staged(tmp_path / "sweep") as stage:
        sub = stage / "alpha-10"
        sub.mkdir()
        write_run(sub, "a10")
        results.write_json(stage / "sweep.json", {"run_id": "s", "rows": []})
        rundir.write_manifest(stage, "s")
    sweep = tmp_path / "sweep"
    listed = json.loads((sweep / "manifest.json").read_text())["files"]
    assert sorted(listed) == ["alpha-10/events.csv", "alpha-10/manifest.json", "alpha-10/results.json",
                              "alpha-10/scenario.yaml", "sweep.json"]
    assert results.read_results(sweep)["run_id"] == "s"
    (sweep / "alpha-10" / "events.csv").write_text("time_s,kind\n")
    with pytest.raises(SimError, match=r"alpha-10/events\.csv: changed since run s"):
        results.read_results(sweep)


def test_a_ctrl_c_during_the_swap_lands_after_it(tmp_path, monkeypatch):
    """Without an atomic exchange the swap takes two renames: a SIGINT between them is held until
    the new run is in place and the old one removed."""
    import signal

    out = tmp_path / "run"
    with rundir.staged(out) as stage:
        write_run(stage, "old")
    monkeypatch.setattr(rundir, "_exchange", lambda a, b: False)
    real_rename = os.rename
    calls = []

    def rename_then_interrupt(src, dst):
        calls.append(src)
        real_rename(src, dst)
        if len(calls) == 1:
            signal.raise_signal(signal.SIGINT)  # between "old run aside" and "new run in"

    monkeypatch.setattr(rundir.os, "rename", rename_then_interrupt)
    # Ctrl-C raises KeyboardInterrupt even where this process was started with SIGINT ignored (a
    # background job of a non-interactive shell), where the deferred signal is rightly ignored too
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            with rundir.staged(out) as stage:
                write_run(stage, "new")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert len(calls) == 2
    assert results.read_results(out)["run_id"] == "new" and siblings(out) == ["run"]


def _dead_pid():
    """A pid no process has: a child that has exited and been reaped."""
    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    return child


def test_a_killed_runs_staging_folder_is_removed_but_a_live_runs_is_kept(tmp_path):
    out = tmp_path / "run"
    host = rundir._host_key()
    stale = tmp_path / f".run.new-0badcafe-{_dead_pid()}-{host}"
    live = tmp_path / f".run.new-00c0ffee-{os.getpid()}-{host}"  # a concurrent run of this process
    elsewhere = tmp_path / f".run.new-0000beef-{_dead_pid()}-{'0' * 8 if host != '0' * 8 else '1' * 8}"
    legacy = tmp_path / ".run.new-4b89a264"  # named before pids were: its writer cannot be told
    other = tmp_path / f".runs.new-0badcafe-{_dead_pid()}-{host}"  # beside another target
    for folder in (stale, live, elsewhere, legacy, other):
        folder.mkdir()
        (folder / "scenario.yaml").write_text("seed: 1\n")
    with rundir.staged(out) as stage:
        write_run(stage, "new")
    assert siblings(out) == sorted(p.name for p in (live, elsewhere, legacy, other)) + ["run"]
    assert results.read_results(out)["run_id"] == "new"


def test_a_run_killed_between_its_two_renames_gets_the_old_run_back(tmp_path):
    out = tmp_path / "run"
    old = tmp_path / f".run.old-0badcafe-{_dead_pid()}-{rundir._host_key()}"
    old.mkdir()
    write_run(old, "old")
    with pytest.raises(RuntimeError):
        with rundir.staged(out):
            raise RuntimeError("this run fails before its swap")
    assert siblings(out) == ["run"] and results.read_results(out)["run_id"] == "old"


def test_staging_folders_carry_the_writers_pid_and_host(tmp_path):
    with rundir.staged(tmp_path / "run") as stage:
        assert stage.name.endswith(f"-{os.getpid()}-{rundir._host_key()}")
