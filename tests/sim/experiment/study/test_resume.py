"""Resuming: an interrupted study loses no finished cell and reruns only the rest; a new axis
value runs only its new cells (counted by what the executor ran and by unchanged run ids)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.experiment.study.driver import run_study
from sim.experiment.study.executors import create_executor
from sim.experiment.study.spec import load_study

TINY = Path(__file__).resolve().parents[4] / "scenarios" / "tiny.yaml"


def study(tmp_path: Path, alphas: str) -> object:
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nbase: {TINY}\naxes:\n  alpha: [{alphas}]\nseeds: [0, 1]\n")
    return load_study(path)


def run_ids(out: Path) -> dict[str, str]:
    return {p.parent.name: json.loads(p.read_text())["run_id"] for p in (out / "cells").glob("*/results.json")}


def test_interrupt_then_resume_then_a_new_alpha(tmp_path, cache):
    out = tmp_path / "out"
    seen = []

    def interrupt_after_two(name, /, **fields):
        if name == "cell_done":
            seen.append(fields["label"])
            if len(seen) == 2:
                raise KeyboardInterrupt

    with create_executor("local", 1) as executor, pytest.raises(KeyboardInterrupt):
        run_study(study(tmp_path, "100, 10000"), out, executor, cache_dir=cache, progress=interrupt_after_two)
    table = (out / "study.csv").read_text()  # written on the way out, unfinished cells pending
    assert table.count(",ok,") == 2 and table.count(",pending,") == 2
    kept = run_ids(out)
    assert len(kept) == 2

    with create_executor("local", 1) as executor:
        outcome = run_study(study(tmp_path, "100, 10000"), out, executor, cache_dir=cache)
    assert (outcome.executed, outcome.reused, outcome.exit_code) == (2, 2, 0)
    after = run_ids(out)
    assert len(after) == 4 and all(after[name] == rid for name, rid in kept.items())  # not rerun

    with create_executor("local", 1) as executor:
        outcome = run_study(study(tmp_path, "100, 1000, 10000"), out, executor, cache_dir=cache)
    assert (outcome.executed, outcome.reused) == (2, 4)  # alpha 1000 x 2 seeds only
    final = run_ids(out)
    assert len(final) == 6 and all(final[name] == rid for name, rid in after.items())
    assert (out / "study.csv").read_text().count(",ok,") == 6
