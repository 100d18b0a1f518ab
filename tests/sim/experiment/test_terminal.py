"""What a user sees at the terminal: --version, fast start-up (no heavy imports where none are
needed), which stream each line goes to, shipped scenarios by name from any directory, the listings,
and a quick, clear failure of `weights: pretrained` with no network."""

import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml

from sim.experiment.cli import main

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
# What validate, list, report and --help must not import: each costs seconds at start-up.
HEAVY = ("torch", "timm", "sklearn", "numba", "matplotlib", "simpy")


def _env(**extra: str) -> dict[str, str]:
    """The environment of a child process that imports this checkout's code."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    return env


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, cache):
    out = tmp_path_factory.mktemp("terminal") / "tiny"
    assert main(["run", "tiny", "--out", str(out), "--cache", cache, "--quiet"]) == 0
    return out


# ---------------------------------------------------------------- --version


def test_version_prints_the_package_version_and_exits_0(capsys):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"skill-sim {version}\n"


# ---------------------------------------------------------------- start-up


def _imported_heavy(argv: list[str], allowed: tuple[str, ...] = ()) -> list[str]:
    """Run main(argv) in a fresh interpreter; the heavy top-level modules it imported."""
    code = (
        "import sys, json\n"
        "from sim.experiment.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120)
    return [m for m in json.loads(done.stderr.strip().splitlines()[-1]) if m not in allowed]


@pytest.mark.parametrize("argv", [
    ["--help"], ["--version"], ["validate", "tiny"], ["validate", "ring_51_failures", "--json"],
    ["list", "topologies"], ["list", "protocols"], ["list", "suites"], ["list", "backbones"], ["list", "scenarios"],
], ids=" ".join)
def test_light_commands_import_no_heavy_library(argv):
    assert _imported_heavy(argv) == []


def test_report_imports_only_matplotlib_of_the_heavy_libraries(tiny_run):
    assert _imported_heavy(["report", str(tiny_run)], allowed=("matplotlib",)) == []


def test_run_prints_its_first_line_before_torch_is_imported(tmp_path):
    """-X importtime writes each import to stderr as it happens: the first line must come before torch's."""
    child = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "sim.experiment.cli", "run", "tiny",
         "--out", str(tmp_path / "run"), "--cache", str(tmp_path / "cache")],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=_env(COLUMNS="80"),
    )
    def is_torch(line: str) -> bool:  # "import time: self | cumulative | <indent>torch.nn.modules"
        return line.startswith("import time:") and line.split("|")[-1].strip().split(".")[0] == "torch"

    seen: list[str] = []
    try:
        for line in child.stderr:
            seen.append(line)
            if is_torch(line):
                break
    finally:
        child.kill()
        child.wait()
    first = [i for i, line in enumerate(seen) if line.startswith("skill-sim · tiny")]
    torch_at = [i for i, line in enumerate(seen) if is_torch(line)]
    assert first and torch_at, "".join(seen[-5:])
    assert first[0] < torch_at[0]
    assert "loading" in seen[first[0]]


# ---------------------------------------------------------------- streams


def test_run_puts_summary_and_run_directory_on_stdout_and_progress_on_stderr(cache, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "tiny", "--out", str(out), "--cache", cache]) == 0
    captured = capsys.readouterr()
    assert "makespan" in captured.out and "speedup" in captured.out
    assert captured.out.rstrip().splitlines()[-1] == f"results in {out}"
    assert "learning" in captured.err and "skill-sim · tiny" in captured.err
    assert "makespan" not in captured.err and "results in" not in captured.err


def test_quiet_prints_only_the_run_directory(cache, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "tiny", "--out", str(out), "--cache", cache, "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{out}\n"
    assert captured.err == ""


def test_json_is_all_that_stdout_holds_and_names_the_run_directory(cache, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "tiny", "--out", str(out), "--cache", cache, "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)  # the whole of stdout is one JSON document
    assert data["run_dir"] == str(out)
    assert data["makespan_s"] == json.loads((out / "results.json").read_text())["makespan_s"]
    assert "makespan" in captured.err  # the human summary moved to stderr, out of the JSON's way


def test_quiet_json_sweep_prints_json_with_its_directory(cache, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "tiny", "--alpha", "10,1e4", "--out", str(out), "--cache", cache, "--json", "--quiet"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["run_dir"] == str(out) and [r["alpha"] for r in data["rows"]] == [10.0, 1e4]
    assert captured.err == ""


def test_quiet_sweep_prints_its_directory(cache, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "tiny", "--alpha", "10,1e4", "--out", str(out), "--cache", cache, "--quiet"]) == 0
    assert capsys.readouterr().out == f"{out}\n"


def test_sweep_at_80_columns_shows_reused_evaluation_and_keeps_counts(cache, tmp_path, capsys, monkeypatch):
    """The second alpha's banks were all evaluated at the first: done at once, not 0/0 with no ETA."""
    monkeypatch.setenv("COLUMNS", "80")
    shutil.rmtree(Path(cache) / "evaluations", ignore_errors=True)  # earlier runs' banks: not on disk
    assert main(["sweep", "tiny", "--alpha", "10,1e4", "--out", str(tmp_path / "s"), "--cache", cache]) == 0
    lines = [line.rstrip() for line in capsys.readouterr().err.splitlines()]
    evaluating = [line for line in lines if line.startswith("evaluating")]
    assert len(evaluating) == 2
    assert "1/1" in evaluating[0]  # the first alpha evaluates tiny's one full bank
    assert "reused" in evaluating[1] and "0/0" not in evaluating[1] and "-:--:--" not in evaluating[1]
    learning = [line for line in lines if line.startswith("learning")][0]
    assert "━" in learning and "8/8" in learning and "0:00:00" in learning
    assert all(len(line) <= 80 for line in lines)


def test_validate_prints_the_resolved_scenario_as_yaml_on_stdout(capsys):
    assert main(["validate", "tiny", "--json"]) == 0
    resolved = json.loads(capsys.readouterr().out)
    assert main(["validate", "tiny"]) == 0
    captured = capsys.readouterr()
    assert yaml.safe_load(captured.out) == resolved
    assert "is a valid scenario" in captured.err


def test_errors_go_to_stderr_only(capsys):
    assert main(["validate", "no_such_scenario"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "no such scenario file" in captured.err


# ---------------------------------------------------------------- shipped scenarios by name


@pytest.mark.parametrize("name", ["tiny", "tiny.yaml", "scenarios/tiny.yaml", "ring_51"])
def test_shipped_scenarios_resolve_from_any_directory(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", name, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == Path(name).stem


def test_a_file_that_exists_is_used_as_given(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("tiny.yaml").write_text("name: mine\nagents: {count: 3}\n")
    assert main(["validate", "tiny.yaml", "--json"]) == 0
    resolved = json.loads(capsys.readouterr().out)
    assert (resolved["name"], resolved["agents"]["count"]) == ("mine", 3)


def test_a_missing_scenario_lists_the_shipped_names_that_work(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "scenarios/tiyn.yaml"]) == 2
    err = capsys.readouterr().err
    assert "scenarios/tiyn.yaml: no such scenario file" in err
    assert ", ".join(SHIPPED) in " ".join(err.split())  # rich may wrap the line
    assert "scenarios/tiny.yaml" not in err and "Traceback" not in err


def test_a_folder_is_not_a_scenario(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    assert "is a folder, not a scenario file" in capsys.readouterr().err


# ---------------------------------------------------------------- listings


def test_list_scenarios_shows_the_comment_at_the_top_of_each_file(capsys):
    assert main(["list", "scenarios", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert list(items) == SHIPPED
    assert items["tiny"] == "Runs in seconds: for the README, the tests and a first look. Same real path as ring_51."
    assert items["star_51"] == ("A hub and 50 spokes: every package crosses the hub, whose links become the "
                                "bottleneck.")
    assert all(items.values())


def test_list_backbones_shows_what_works_offline_first_and_how_to_see_every_name(capsys):
    assert main(["list", "backbones", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert list(items)[0] == "tf_efficientnet_lite0" and "weights: offline" in items["tf_efficientnet_lite0"]
    others = " ".join(list(items.values())[1:])
    assert "weights: random" in others and "pretrained" in others and "network" in others
    assert len(items) < 5
    assert main(["list", "backbones"]) == 0
    assert "skill-sim list backbones --all" in capsys.readouterr().out


def test_list_backbones_all_lists_every_timm_name(capsys):
    import timm

    assert main(["list", "backbones", "--all", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert list(items)[0] == "tf_efficientnet_lite0"
    assert set(timm.list_models()) <= set(items)


# ---------------------------------------------------------------- pretrained with no network


def test_pretrained_with_no_network_fails_fast_saying_how_to_go_offline(tmp_path):
    """A hub name that never resolves (.invalid is reserved): the hub client alone retried ~50 s."""
    env = _env(HF_ENDPOINT="https://hub.invalid")
    env.pop("HF_HUB_OFFLINE", None)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "sim.experiment.cli", "run", "tiny", "--set", "learner.backbone.name=resnet18",
         "--set", "learner.backbone.weights=pretrained", "--out", str(tmp_path / "run"),
         "--cache", str(tmp_path / "cache"), "--quiet"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    wall = time.perf_counter() - start
    assert done.returncode == 2, done.stderr
    err = " ".join(done.stderr.split())
    assert "hub.invalid cannot be resolved" in err and "'resnet18'" in err
    assert "'offline'" in err and "'random'" in err and "checkpoint" in err and "Traceback" not in err
    assert wall < 40, wall
