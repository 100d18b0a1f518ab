"""A study whose every cell finished before starts no executor (no process pool, no Ray instance):
it says so, and still rewrites its tables, study.json and figures. Cells here are cost-only
(synthetic workload), run by an in-process executor whose starts are counted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from sim.experiment.cli import main
from sim.experiment.study import executors, work
from sim.experiment.study.driver import NO_EXECUTOR, run_study
from sim.experiment.study.executors.base import Executor
from sim.experiment.study.spec import load_study

BASE = """\
name: syn
agents: {count: 4, rate_macs_per_s: 1.0e6}
workload: {kind: synthetic, tasks: 4, teacher_macs: 2.0e6, package_bytes: 1000}
topology: {family: full, links: {latency: 0}}
network: {mode: alpha, serial_receive: true}
gossip: {protocol: broadcast}
alpha: 1000
output: {plots: false}
"""


class InProcess(Executor):
    """Runs jobs in this process, one after the other (a stand-in for the pool: no spawn)."""

    name = "in-process"

    def learn(self, jobs: list[work.LearnJob]) -> Iterator[work.LearnOutput]:
        for job in jobs:
            yield work.learn(job)

    def cells(self, jobs: list[work.CellJob], entries: dict[str, list] | None = None) -> Iterator[work.CellOutput]:
        for job in jobs:
            yield work.run_cell(job)

    def close(self, abort: bool = False) -> None:
        self.closed = True


@pytest.fixture
def study_file(tmp_path: Path) -> Path:
    (tmp_path / "syn.yaml").write_text(BASE)
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nbase: syn.yaml\naxes:\n  alpha: [100, 10000]\nseeds: [0, 1]\n")
    return path


def test_the_factory_is_called_only_while_cells_are_left(study_file, tmp_path):
    started: list[InProcess] = []

    def start() -> InProcess:
        started.append(InProcess(1))
        return started[-1]

    first = run_study(load_study(study_file), tmp_path / "out", start)
    assert (first.executed, first.reused, first.exit_code) == (4, 0, 0)
    assert len(started) == 1 and started[0].closed  # opened once, closed by the driver
    table = (tmp_path / "out" / "study.csv").read_text()

    (tmp_path / "out" / "study.csv").unlink()
    again = run_study(load_study(study_file), tmp_path / "out", start)
    assert (again.executed, again.reused, again.exit_code) == (0, 4, 0)
    assert len(started) == 1  # no second start
    assert (tmp_path / "out" / "study.csv").read_text() == table  # rewritten, the same rows
    assert json.loads((tmp_path / "out" / "study.json").read_text())["executor"] == NO_EXECUTOR


@pytest.mark.parametrize("kind", ["local", "ray"])
def test_the_command_on_a_finished_study_starts_no_executor(kind, study_file, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    monkeypatch.setattr(executors, "create_executor", lambda *a, **k: InProcess(1))
    assert main(["study", str(study_file), "--out", str(out)]) == 0
    capsys.readouterr()
    for name in ("study.csv", "summary.csv"):
        (out / name).unlink()
    if kind == "ray":  # the option check wants Ray importable; nothing may start it
        pytest.importorskip("ray", reason="the Ray extra is not installed (pip install 'skill-sim[ray]')")
    monkeypatch.setattr(executors, "create_executor", lambda *a, **k: pytest.fail("an executor was started"))
    assert main(["study", str(study_file), "--out", str(out), "--executor", kind, "--workers", "2"]) == 0
    printed = capsys.readouterr()
    assert "all 4 cells finished before (reused): nothing to run, no executor started" in printed.err
    assert "4 cells (0 run now, 4 finished before) · 4 ok" in printed.out
    assert (out / "study.csv").is_file() and (out / "summary.csv").is_file()
    assert "speedup_efficiency_vs_alpha.png" in json.loads((out / "study.json").read_text())["figures"]
