"""The figures a study's axes call for: a learner.reuse.* axis adds reuse_vs_<x>.png (tasks reused,
head epochs saved, accuracy), drawn from summary rows; without one it is not drawn."""

from __future__ import annotations

import matplotlib.image

from sim.experiment.study import figures


def row(family: str, reuse: bool, alpha: float, reused: float | None, accuracy: float) -> dict:
    """A summary.csv row of one seed: each metric's mean, no interval (n = 1)."""
    metrics = {"speedup": 10.0, "efficiency": 0.2, "reuse_tasks": reused,
               "reuse_epochs_saved": None if reused is None else 20 * reused, "accuracy": accuracy}
    out = {"topology.family": family, "learner.reuse.enabled": reuse, "alpha": alpha, "seeds": 1}
    for name, value in metrics.items():
        out |= {f"{name}_mean": value, f"{name}_ci95_low": None, f"{name}_ci95_high": None}
    return out


ROWS = [row(f, on, a, (13 if a == 1e3 else 4) if on else None, 0.917 if on else 0.920)
        for f in ("ring", "full") for on in (False, True) for a in (1e3, 1e4)]


def test_a_reuse_axis_draws_reuse_against_alpha(tmp_path):
    drawn, _ = figures.render(tmp_path, ["topology.family", "learner.reuse.enabled", "alpha"], ROWS, agents=51)
    assert "reuse_vs__alpha.png" in drawn
    image = matplotlib.image.imread(tmp_path / "reuse_vs__alpha.png")
    assert image.shape[0] > image.shape[1] > 500  # three panels, one above the other


def test_a_reuse_axis_without_alpha_puts_the_other_axis_on_x(tmp_path):
    rows = [r for r in ROWS if r["alpha"] == 1e3]
    drawn, _ = figures.render(tmp_path, ["learner.reuse.enabled", "topology.family"], rows)
    assert "reuse_vs__topology.family.png" in drawn and (tmp_path / "reuse_vs__topology.family.png").is_file()


def test_no_reuse_axis_no_reuse_figure(tmp_path):
    rows = [r for r in ROWS if r["learner.reuse.enabled"]]
    drawn, _ = figures.render(tmp_path, ["topology.family", "alpha"], rows, agents=51)
    assert not [name for name in drawn if name.startswith("reuse_vs")]
